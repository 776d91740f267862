package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/oci"
	"github.com/berth-project/berth/daemon/runspec"
	"github.com/berth-project/berth/daemon/shim"
	"github.com/berth-project/berth/daemon/shimclient"
	"github.com/berth-project/berth/pkg/cgroupwarm"
	"github.com/berth-project/berth/pkg/runtrace"
)

// ContainerStart starts a created or exited container.
func (d *Daemon) ContainerStart(ctx context.Context, name string) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	err = d.start(ctx, c)
	if err != nil && c.HostConfig.AutoRemove && !errdefs.IsNotModified(err) {
		// As Docker: a --rm container that cannot start is removed, so
		// that the client waiting for its removal returns.
		if rmErr := d.remove(context.Background(), c, true, true); rmErr != nil {
			d.log.Warn("auto-remove after failed start", "container", c.ID, "err", rmErr)
		}
	}
	return err
}

func (d *Daemon) start(ctx context.Context, c *container.Container) (retErr error) {
	c.Lock()
	defer c.Unlock()
	switch c.State.Status {
	case containertypes.StateRunning:
		return fmt.Errorf("container %s is already started: %w", c.ID, errdefs.ErrNotModified)
	case containertypes.StatePaused:
		return fmt.Errorf("cannot start a paused container, try unpause instead: %w", errConflict)
	case containertypes.StateRemoving, containertypes.StateDead:
		return fmt.Errorf("container %s is marked for removal and cannot be started: %w", c.ID, errConflict)
	}
	l := d.liveOf(c.ID)
	d.awaitPreviousShim(l)

	shimDir := d.shimDir(c.ID)
	os.RemoveAll(shimDir)
	os.Remove(c.ExitPath())
	runtrace.Mark("start begin")
	// The runtime will move the container's process into its cgroup:
	// take the kernel's cgroup lock now, in the background (cgroupwarm).
	go cgroupwarm.Warm("daemon")
	held, nsPath, err := d.networkUp(ctx, c)
	if err != nil {
		c.State.ExitCode = shim.StartErrorExitCode(err, shim.ExitContainerStartFailed)
		c.State.Error = err.Error()
		_ = c.ToDisk()
		d.failPending(l, err)
		return err
	}
	// The shim has its own copies of the port sockets once spawned.
	defer held.Close()
	mounted := false // the volumes are mounted and their mount events sent
	defer func() {
		if retErr != nil {
			d.networkDown(c)
			d.releaseVolumes(c, mounted)
			d.cleanupShimDir(c.ID)
			// A shim that failed or was stopped may leave what the
			// runtime created.
			d.deleteOrphanedRun(c.ID)
			c.State.ExitCode = shim.StartErrorExitCode(retErr, shim.ExitContainerStartFailed)
			c.State.Error = retErr.Error()
			_ = c.ToDisk()
			d.failPending(l, retErr)
		}
	}()
	// Before the shim: its mount namespace is a copy of the daemon's.
	if err := d.acquireVolumes(c); err != nil {
		return err
	}
	mounted = true
	linkEnv, err := d.writeNetworkFiles(c, true)
	if err != nil {
		return err
	}
	shimCfg, spec, err := d.buildRun(c, nsPath, linkEnv)
	if err != nil {
		return err
	}
	// crun gets the profile compiled once per distinct profile.
	d.seccompBPF.Apply(ctx, shimCfg.Runtime, spec)
	bundle := filepath.Join(shimDir, "bundle")
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		return err
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	// The bundle lives in the exec root for this run only: no need to sync.
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return err
	}
	runtrace.Mark("start bundle-written")
	// From here to the persisted running state, a crash leaves a live
	// shim the disk does not mention: restore finds it by its process and
	// state directory, and ends it if it was never started or adopts it.
	trees, err := cloneSharedBinds(shimCfg.SharedBinds)
	if err != nil {
		return err
	}
	// The shim has its own copies once spawned; unattached clones
	// dissolve when the last copy closes.
	defer closeAll(trees)
	shim, pid, err := shimclient.Spawn(ctx, d.shimBin, shimDir, shimCfg, held.Files, trees)
	if err != nil {
		return fmt.Errorf("failed to create task for container: %w", err)
	}
	runtrace.Mark("start spawned")
	d.crashPoint("after-spawn")
	l.shim = shim
	l.stopping = false
	// The monitor's wait goes to the shim now, before the container can
	// end: the shim answers it before it deletes the runtime's state.
	wait := shim.SendWait(d.ctx)
	d.connectPending(ctx, c, l)
	if err := shim.Start(ctx); err != nil {
		_ = shim.Kill(context.Background(), "KILL", true)
		_, _ = wait.Result()
		return fmt.Errorf("failed to start container: %w", err)
	}
	runtrace.Mark("start shim-started")
	d.crashPoint("after-start")
	if err := c.State.SetRunning(pid, time.Now().UTC()); err != nil {
		wait.Close()
		return err
	}
	c.HasBeenStarted = true
	l.exited = make(chan struct{})
	d.startHealth(c, l, true)
	if err := c.ToDisk(); err != nil {
		d.log.Error("persist started container", "container", c.ID, "err", err)
	}
	runtrace.Mark("start persisted")
	d.monitor(c, l, wait, l.exited)
	d.refreshLinkers(c)
	d.containerEvent(c, eventtypes.ActionStart, nil)
	d.log.Info("container started", "container", c.ID, "pid", pid)
	return nil
}

// onReadOnlyMount reports whether the mount that holds path is read-only
// (its own flag or its file system's).
func onReadOnlyMount(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Flags&unix.ST_RDONLY != 0
}

// buildRun computes the shim's configuration and the OCI spec of one run
// of c, in the network namespace nsPath ("" for none, host or a new
// one). Its I/O is here, before the pure runspec.Build: the runtime is
// looked up in PATH, and a missing -v host directory is created, as
// Docker does. linkEnv (the variables of c's links) comes before c's own
// environment, which wins.
func (d *Daemon) buildRun(c *container.Container, nsPath string, linkEnv []string) (shim.Config, *specs.Spec, error) {
	rt, err := d.runtimePath(c.Runtime)
	if err != nil {
		return shim.Config{}, nil, err
	}
	for _, m := range c.Mounts {
		if m.Type != container.MountBind || (m.FromAPIMounts && !m.CreateMountpoint) {
			continue
		}
		if _, err := os.Stat(m.Source); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				return shim.Config{}, nil, err
			}
		}
	}
	if err := checkPropagationSources(c.Mounts, d.volumes.Path, false); err != nil {
		return shim.Config{}, nil, err
	}
	rro := d.runtimeHasRRO(rt)
	if err := runspec.CheckRecursiveReadOnly(c.Mounts, rro, rt); err != nil {
		return shim.Config{}, nil, err
	}
	devs, err := blockDevices(c.HostConfig.Resources)
	if err != nil {
		return shim.Config{}, nil, err
	}
	cfg, in := runspec.Build(c, runspec.Defaults{
		RecursiveReadOnly: rro,
		Runtime:           rt,
		RuntimeRoot:       d.runtimeRoot(),
		ShimDir:           d.shimDir(c.ID),
		ShimSocket:        d.shimSocket(c.ID),
		ShmSize:           d.cfg.ShmSize(),
		HostCaps:          d.hostCaps,
		HardNofile:        d.hardNofile,
		VolumePath:        d.volumes.Path,
		VolumeIsTmpfs:     d.volumes.IsTmpfs,
		SourceIsReadOnly:  onReadOnlyMount,
		BlockDevices:      devs,
		InitPath:          d.initPath(),
	})
	for _, kv := range slices.Backward(linkEnv) {
		if k, _, _ := strings.Cut(kv, "="); !runspec.HasEnv(in.Env, k) {
			in.Env = append([]string{kv}, in.Env...)
		}
	}
	joined, other, err := d.joinedNetNS(c)
	if err != nil {
		return shim.Config{}, nil, err
	}
	if other != nil {
		// As Docker: a container in another's network namespace sees that
		// container's name files and host name too.
		nsPath = joined
		in.HostsPath, in.HostnamePath, in.ResolvConfPath = other.HostsPath(), other.HostnamePath(), other.ResolvConfPath()
		in.Hostname = other.Config.Hostname
	}
	in.NetworkNSPath = nsPath
	if err := applySecurity(&in, c.HostConfig, d.seccomp); err != nil {
		return shim.Config{}, nil, err
	}
	spec, err := oci.Build(in)
	if err != nil {
		return shim.Config{}, nil, err
	}
	return cfg, spec, nil
}

// cleanupShimDir removes what a run left in the exec root.
func (d *Daemon) cleanupShimDir(id string) {
	os.Remove(d.shimSocket(id))
	dir := d.shimDir(id)
	// The staging and rootfs mounts lived in the shim's namespace only, so
	// these are plain directories here.
	if err := os.RemoveAll(dir); err != nil {
		d.log.Warn("remove shim directory", "container", id, "err", err)
	}
}
