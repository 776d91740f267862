package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/oci"
	"github.com/berth-project/berth/daemon/shim"
	"github.com/berth-project/berth/daemon/shimclient"
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
	defer func() {
		if retErr != nil {
			d.cleanupShimDir(c.ID)
			c.State.ExitCode = shim.StartErrorExitCode(retErr, shim.ExitContainerStartFailed)
			c.State.Error = retErr.Error()
			_ = c.ToDisk()
			d.failPending(l, retErr)
		}
	}()
	shimCfg, spec, err := d.buildRun(c)
	if err != nil {
		return err
	}
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
	shim, pid, err := shimclient.Spawn(ctx, d.self, shimDir, shimCfg)
	if err != nil {
		return fmt.Errorf("failed to create task for container: %w", err)
	}
	l.shim = shim
	l.stopping = false
	d.connectPending(ctx, c, l)
	if err := shim.Start(ctx); err != nil {
		_ = shim.Kill(context.Background(), "KILL", true)
		_, _ = shim.Wait(context.Background())
		return fmt.Errorf("failed to start container: %w", err)
	}
	if err := c.State.SetRunning(pid, time.Now().UTC()); err != nil {
		return err
	}
	c.HasBeenStarted = true
	l.exited = make(chan struct{})
	if err := c.ToDisk(); err != nil {
		d.log.Error("persist started container", "container", c.ID, "err", err)
	}
	d.monitor(c, l, shim, l.exited)
	d.containerEvent(c, eventtypes.ActionStart, nil)
	d.log.Info("container started", "container", c.ID, "pid", pid)
	return nil
}

// buildRun computes the shim's configuration and the OCI spec of one run
// of c. It does no I/O beyond reading the image's user database.
func (d *Daemon) buildRun(c *container.Container) (shim.Config, *specs.Spec, error) {
	shimDir := d.shimDir(c.ID)
	rt, err := d.runtimePath(c.Runtime)
	if err != nil {
		return shim.Config{}, nil, err
	}
	eu := c.User
	cfg := shim.Config{
		ID:          c.ID,
		Runtime:     rt,
		RuntimeRoot: filepath.Join(d.runtimeRoot(), filepath.Base(rt)),
		Bundle:      filepath.Join(shimDir, "bundle"),
		LogPath:     c.LogPath(),
		ExitPath:    c.ExitPath(),
		Socket:      d.shimSocket(c.ID),
		Stdin:       c.Config.OpenStdin,
		StdinOnce:   c.Config.StdinOnce,
		Terminal:    c.Config.Tty,
	}
	cfg.Rootfs.Lower = append([]string{c.MountpointLayer()}, c.Layers...)
	if !c.ReadonlyRootfs() {
		cfg.Rootfs.Upper, cfg.Rootfs.Work = c.UpperDir(), c.WorkDir()
	}

	var mounts []oci.Mount
	for i, m := range c.Mounts {
		switch m.Type {
		case container.MountTmpfs:
			staging := tmpfsStaging(shimDir, i)
			cfg.Tmpfs = append(cfg.Tmpfs, shim.TmpfsMount{
				Destination: m.Destination,
				Staging:     staging,
				Flags:       m.Tmpfs.Flags,
				Data:        m.Tmpfs.Data,
				Mode:        m.Tmpfs.Mode,
				UID:         m.Tmpfs.UID,
				GID:         m.Tmpfs.GID,
				CopyUp:      m.Tmpfs.CopyUp,
			})
			mounts = append(mounts, oci.Mount{Destination: m.Destination, Type: "bind", Source: staging, Options: tmpfsBindOptions(m.Tmpfs.Flags)})
		case container.MountBind:
			if _, err := os.Stat(m.Source); errors.Is(err, os.ErrNotExist) && !m.FromAPIMounts {
				// -v creates a missing host directory, as Docker does.
				if err := os.MkdirAll(m.Source, 0o755); err != nil {
					return shim.Config{}, nil, err
				}
			}
			mounts = append(mounts, oci.Mount{Destination: m.Destination, Type: "bind", Source: m.Source, Options: bindOptions(m)})
		case container.MountVolume:
			src := d.volumes.Path(m.VolumeName)
			if copiesImageContent(m) {
				cfg.Volumes = append(cfg.Volumes, shim.VolumeCopy{Destination: m.Destination, Path: src})
			}
			mounts = append(mounts, oci.Mount{Destination: m.Destination, Type: "bind", Source: src, Options: bindOptions(m)})
		}
	}
	d.setTmpfsLowers(c, cfg.Tmpfs)

	env := c.Config.Env
	if !hasEnv(env, "PATH") {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	env = append([]string{"HOSTNAME=" + c.Config.Hostname}, env...)
	if !hasEnv(env, "HOME") {
		home := eu.Home
		if home == "" {
			home = "/"
		}
		env = append(env, "HOME="+home)
	}
	if c.Config.Tty && !hasEnv(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	gids := make([]uint32, 0, len(eu.AdditionalGids))
	for _, g := range eu.AdditionalGids {
		gids = append(gids, uint32(g))
	}
	hc := c.HostConfig
	shm := hc.ShmSize
	if shm == 0 {
		shm = d.cfg.ShmSize()
	}
	netMode := string(hc.NetworkMode)
	if netMode != "host" && netMode != "none" {
		netMode = "private"
	}
	ipc := string(hc.IpcMode)
	if ipc == "shareable" {
		ipc = "private"
	}
	in := oci.Input{
		ID:               c.ID,
		Hostname:         c.Config.Hostname,
		Domainname:       c.Config.Domainname,
		Rootfs:           filepath.Join(cfg.Bundle, "rootfs"),
		ReadonlyRootfs:   c.ReadonlyRootfs(),
		Args:             append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...),
		Env:              env,
		Cwd:              c.Config.WorkingDir,
		UID:              uint32(eu.UID),
		GID:              uint32(eu.GID),
		AdditionalGids:   gids,
		Terminal:         c.Config.Tty,
		Mounts:           mounts,
		HostsPath:        c.HostsPath(),
		HostnamePath:     c.HostnamePath(),
		ResolvConfPath:   c.ResolvConfPath(),
		ShmSize:          shm,
		NetworkMode:      netMode,
		IpcMode:          ipc,
		PidMode:          string(hc.PidMode),
		UTSMode:          string(hc.UTSMode),
		CgroupsPath:      "/berth/" + c.ID,
		CapAdd:           hc.CapAdd,
		CapDrop:          hc.CapDrop,
		Privileged:       hc.Privileged,
		HostCapabilities: d.hostCaps,
		Sysctls:          hc.Sysctls,
		Rlimits:          d.rlimits(),
	}
	if hc.OomScoreAdj != 0 {
		v := hc.OomScoreAdj
		in.OomScoreAdj = &v
	}
	for _, o := range hc.SecurityOpt {
		if o == "no-new-privileges" || o == "no-new-privileges:true" || o == "no-new-privileges=true" {
			in.NoNewPrivileges = true
		}
	}
	spec, err := oci.Build(in)
	if err != nil {
		return shim.Config{}, nil, err
	}
	return cfg, spec, nil
}

// rlimits keeps the container's open-file limit within the daemon's own
// hard limit: root may lack CAP_SYS_RESOURCE, and a runtime asked for more
// fails.
func (d *Daemon) rlimits() []specs.POSIXRlimit {
	if d.hardNofile == 0 {
		return nil
	}
	n := d.hardNofile
	if n > 1048576 {
		n = 1048576
	}
	return []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: n, Soft: n}}
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			return true
		}
	}
	return false
}

// tmpfsBindOptions are the bind mount options that give a prepared tmpfs
// its flags in the container.
func tmpfsBindOptions(flags []string) []string {
	opts := []string{"rbind"}
	prop := "rprivate"
	for _, f := range flags {
		switch f {
		case "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable":
			prop = f
		default:
			opts = append(opts, f)
		}
	}
	return append(opts, prop)
}

func bindOptions(m container.Mount) []string {
	opts := []string{"rbind"}
	if m.ReadOnly {
		opts = append(opts, "ro")
	} else {
		opts = append(opts, "rw")
	}
	prop := m.Propagation
	if prop == "" {
		prop = "rprivate"
	}
	return append(opts, prop)
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
