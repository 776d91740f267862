// Package runspec computes the inputs of one run of a container from its
// persisted model and the daemon's resolved settings: the shim's
// configuration and the input of the OCI spec builder (daemon/oci).
//
// It is pure: the daemon looks up the runtime, creates missing bind
// sources and reads its own limits first, and passes the results in
// Defaults.
package runspec

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/oci"
	"github.com/berth-project/berth/daemon/shim"
	"github.com/berth-project/berth/pkg/bindprop"
	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// Defaults are the daemon's settings and paths for one run.
type Defaults struct {
	// Runtime is the runtime binary's path, RuntimeRoot the directory that
	// holds the state directory of each runtime (--root is below it).
	Runtime, RuntimeRoot string
	// ShimDir is the run's directory in the exec root (bundle, staging
	// mounts); ShimSocket the shim's socket.
	ShimDir, ShimSocket string
	// ShmSize is the daemon's /dev/shm size for containers that set none.
	ShmSize int64
	// HostCaps is the daemon's bounding set.
	HostCaps []string
	// HardNofile is the daemon's hard RLIMIT_NOFILE (0: unknown).
	HardNofile uint64
	// VolumePath returns the host directory of a named volume.
	VolumePath func(name string) string
	// VolumeIsTmpfs reports a tmpfs volume (the local driver's
	// type=tmpfs): it is never filled from the image, as in Docker, where
	// the copy made at create is lost when the tmpfs is unmounted, and
	// its root keeps the mode and owner of its options. nil: none is.
	VolumeIsTmpfs func(name string) bool
	// SourceIsReadOnly reports a mount source (a bind's host path, a
	// volume's directory) on a read-only mount: the runtime remounts a
	// bind with its options (crun always, runc when it has a flag to
	// set), and "rw" would make the container's view of it writable,
	// where Docker's (runc's) keeps it read-only, as a volume of the
	// local driver with o=bind,ro must be. Such a mount gets "ro" where
	// it asked for nothing; a bind's submounts keep their own flags.
	// nil: none is.
	SourceIsReadOnly func(path string) bool
	// BlockDevices are the numbers of the block devices the container's
	// Blkio* limits name (see BlockDevicePaths).
	BlockDevices map[string]DevNum
	// InitPath is the host's init binary, for containers with --init.
	InitPath string
	// RecursiveReadOnly reports that the runtime takes the "rro" mount
	// option (its `features` list it): read-only binds are then made
	// recursively read-only, as Docker does from API 1.44.
	RecursiveReadOnly bool
}

// InitPath is where a container with --init finds the init, as in Docker.
const InitPath = "/sbin/docker-init"

// defaultPath is the PATH of a container whose image sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// maxNofile caps RLIMIT_NOFILE, as Docker's default (1048576).
const maxNofile = 1048576

// Build returns the shim's configuration and the OCI spec input of one run
// of c.
func Build(c *container.Container, d Defaults) (shim.Config, oci.Input) {
	cfg := shim.Config{
		ID:          c.ID,
		Runtime:     d.Runtime,
		RuntimeRoot: filepath.Join(d.RuntimeRoot, filepath.Base(d.Runtime)),
		Bundle:      filepath.Join(d.ShimDir, "bundle"),
		LogPath:     c.LogPath(),
		LogMaxSize:  c.Log.MaxSize,
		LogMaxFiles: c.Log.MaxFiles,
		ExitPath:    c.ExitPath(),
		Socket:      d.ShimSocket,
		CgroupsPath: CgroupsPath(c.ID),
		Stdin:       c.Config.OpenStdin,
		StdinOnce:   c.Config.StdinOnce,
		Terminal:    c.Config.Tty,
	}
	if !c.Log.Reads() {
		cfg.LogPath = ""
	}
	cfg.Rootfs.Lower = append([]string{c.MountpointLayer()}, c.Layers...)
	if !c.ReadonlyRootfs() {
		cfg.Rootfs.Upper, cfg.Rootfs.Work = c.UpperDir(), c.WorkDir()
	}

	var mounts []oci.Mount
	for i, m := range c.Mounts {
		switch m.Type {
		case container.MountTmpfs:
			staging := TmpfsStaging(d.ShimDir, i)
			t := shim.TmpfsMount{
				Destination: m.Destination,
				Staging:     staging,
				Flags:       m.Tmpfs.Flags,
				Data:        m.Tmpfs.Data,
				CopyUp:      m.Tmpfs.CopyUp,
			}
			if lower, ok := lowerMount(c.Mounts, m.Destination); ok {
				t.Lower, t.LowerDestination = mountSource(lower, d.VolumePath), lower.Destination
			}
			cfg.Tmpfs = append(cfg.Tmpfs, t)
			mounts = append(mounts, oci.Mount{Destination: m.Destination, Type: "bind", Source: staging,
				Options: tmpfsopt.BindOptions(m.Tmpfs.Flags, m.Tmpfs.Propagation)})
		case container.MountBind:
			src := sharedBind(&cfg, m, m.Source, d.ShimDir, i)
			opts := bindOptions(m, d.RecursiveReadOnly)
			if !m.ReadOnly && d.SourceIsReadOnly != nil && d.SourceIsReadOnly(m.Source) {
				opts = readOnlyTop(opts)
			}
			mounts = append(mounts, oci.Mount{Destination: m.Destination, Type: "bind", Source: src, Options: opts})
		case container.MountVolume:
			src := d.VolumePath(m.VolumeName)
			if d.SourceIsReadOnly != nil && d.SourceIsReadOnly(src) {
				m.ReadOnly = true
			}
			if m.Subpath != "" {
				// The shim resolves the subpath inside the volume; the
				// image's content is not copied into it, as in Docker.
				staging := SubpathStaging(d.ShimDir, i)
				cfg.Subpaths = append(cfg.Subpaths, shim.SubpathMount{Destination: m.Destination, Volume: src, Subpath: m.Subpath, Staging: staging})
				mounts = append(mounts, oci.Mount{Destination: m.Destination, Type: "bind", Source: staging, Options: bindOptions(m, false)})
				continue
			}
			if copiesImageContent(m) && (d.VolumeIsTmpfs == nil || !d.VolumeIsTmpfs(m.VolumeName)) {
				cfg.Volumes = append(cfg.Volumes, shim.VolumeCopy{Destination: m.Destination, Path: src})
			}
			mounts = append(mounts, oci.Mount{Destination: m.Destination, Type: "bind", Source: sharedBind(&cfg, m, src, d.ShimDir, i), Options: bindOptions(m, false)})
		}
	}

	args := append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...)
	if c.Init {
		// As Docker: the init is PID 1 and runs the process after "--".
		mounts = append(mounts, oci.Mount{Destination: InitPath, Type: "bind", Source: d.InitPath, Options: []string{"rbind", "ro", "rprivate"}})
		args = append([]string{InitPath, "--"}, args...)
	}

	eu := c.User
	env := c.Config.Env
	if !HasEnv(env, "PATH") {
		env = append(env, defaultPath)
	}
	env = append([]string{"HOSTNAME=" + c.Config.Hostname}, env...)
	if !HasEnv(env, "HOME") {
		home := eu.Home
		if home == "" {
			home = "/"
		}
		env = append(env, "HOME="+home)
	}
	if c.Config.Tty && !HasEnv(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	gids := make([]uint32, 0, len(eu.AdditionalGids))
	for _, g := range eu.AdditionalGids {
		gids = append(gids, uint32(g))
	}
	hc := c.HostConfig
	shm := hc.ShmSize
	if shm == 0 {
		shm = d.ShmSize
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
		Args:             args,
		Env:              env,
		Cwd:              c.Config.WorkingDir,
		UID:              uint32(eu.UID),
		GID:              uint32(eu.GID),
		AdditionalGids:   gids,
		Terminal:         c.Config.Tty,
		ConsoleSize:      c.HostConfig.ConsoleSize,
		Mounts:           mounts,
		HostsPath:        c.HostsPath(),
		HostnamePath:     c.HostnamePath(),
		ResolvConfPath:   c.ResolvConfPath(),
		ShmSize:          shm,
		NetworkMode:      netMode,
		IpcMode:          ipc,
		PidMode:          string(hc.PidMode),
		UTSMode:          string(hc.UTSMode),
		CgroupsPath:      CgroupsPath(c.ID),
		CapAdd:           hc.CapAdd,
		CapDrop:          hc.CapDrop,
		Privileged:       hc.Privileged,
		HostCapabilities: d.HostCaps,
		Sysctls:          hc.Sysctls,
		Rlimits:          Rlimits(hc.Ulimits, d.HardNofile),
		Resources:        LinuxResources(hc.Resources, d.BlockDevices),
	}
	in.RootfsPropagation = rootfsPropagation(c.Mounts)
	if hc.OomScoreAdj != 0 {
		v := hc.OomScoreAdj
		in.OomScoreAdj = &v
	}
	// SecurityOpt (no-new-privileges, seccomp) is the daemon's
	// applySecurity's, with the parser that validated it at create.
	return cfg, in
}

// CgroupsPath is the container's cgroup, below each v1 hierarchy or the
// unified one.
func CgroupsPath(id string) string { return "/berth/" + id }

// SubpathStaging is where the shim binds the volume subpath of the
// container's Mounts[index], in the shim's own mount namespace.
func SubpathStaging(shimDir string, index int) string {
	return filepath.Join(shimDir, "subpath", strconv.Itoa(index))
}

// SharedStaging is where the shim attaches the clone of the source of the
// container's Mounts[index], a bind with shared propagation, in the
// shim's own mount namespace.
func SharedStaging(shimDir string, index int) string {
	return filepath.Join(shimDir, "shared", strconv.Itoa(index))
}

// sharedBind returns the source the spec binds for m, whose host
// directory is src: for shared and rshared propagation, the staging path
// where the shim attaches the daemon's clone of src's mount tree (listed
// in cfg.SharedBinds); else src itself.
func sharedBind(cfg *shim.Config, m container.Mount, src, shimDir string, index int) string {
	if !bindprop.Clones(m.Propagation) {
		return src
	}
	staging := SharedStaging(shimDir, index)
	cfg.SharedBinds = append(cfg.SharedBinds, shim.SharedBind{Destination: m.Destination, Source: src, Staging: staging, Recursive: !m.NonRecursive})
	return staging
}

// rootfsPropagation is the spec's linux.rootfsPropagation for mounts, as
// Docker chooses it from the propagation of the binds and volumes.
func rootfsPropagation(mounts []container.Mount) string {
	var props []string
	for _, m := range mounts {
		if m.Type != container.MountTmpfs {
			props = append(props, m.Propagation)
		}
	}
	return bindprop.RootfsPropagation(props)
}

// TmpfsStaging is where the shim mounts the tmpfs of the container's
// Mounts[index], in the shim's own mount namespace.
func TmpfsStaging(shimDir string, index int) string {
	return filepath.Join(shimDir, "tmpfs", strconv.Itoa(index))
}

// HasEnv reports whether env sets key.
func HasEnv(env []string, key string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			return true
		}
	}
	return false
}

// bindOptions are the OCI options of a bind or volume mount. A bind is
// recursive ("rbind") unless NonRecursive. A read-only bind is made
// recursively read-only ("rro", so that its submounts are read-only too)
// where the runtime can and the mount did not ask for ReadOnlyNonRecursive;
// where it cannot, it stays read-only at its top only, as in Docker
// (CheckRecursiveReadOnly refuses ReadOnlyForceRecursive then). A
// non-recursive bind gets its propagation in the non-recursive spelling
// ("private" for "rprivate"), the same for a mount without submounts: crun
// (1.8) takes the MS_REC of "rprivate" for its bind too, and so made a
// non-recursive bind recursive.
func bindOptions(m container.Mount, rro bool) []string {
	opts := []string{"rbind"}
	if m.NonRecursive {
		opts = []string{"bind"}
	}
	if m.ReadOnly {
		opts = append(opts, "ro")
		if rro && !m.NonRecursive && !m.ReadOnlyNonRecursive && m.Type == container.MountBind {
			opts = append(opts, "rro")
		}
	} else {
		opts = append(opts, "rw")
	}
	prop := m.Propagation
	if prop == "" {
		prop = "rprivate"
	}
	if m.NonRecursive {
		prop = strings.TrimPrefix(prop, "r")
	}
	return append(opts, prop)
}

// readOnlyTop turns the "rw" of bind options into "ro": the bind itself
// is read-only, its submounts keep their own flags.
func readOnlyTop(opts []string) []string {
	out := slices.Clone(opts)
	for i, o := range out {
		if o == "rw" {
			out[i] = "ro"
		}
	}
	return out
}

// CheckRecursiveReadOnly refuses a mount with ReadOnlyForceRecursive when
// the runtime cannot make it recursively read-only, as Docker does.
func CheckRecursiveReadOnly(mounts []container.Mount, rro bool, runtime string) error {
	for _, m := range mounts {
		if m.ReadOnlyForceRecursive && !rro {
			return fmt.Errorf("mount %s: ReadOnlyForceRecursive: runtime %s cannot make a mount recursively read-only (its features do not list \"rro\"): %w",
				m.Destination, runtime, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// copiesImageContent reports whether a volume mount gets the image's
// content at its destination when the volume is empty, as in Docker: every
// volume mount unless -v ...:nocopy or --mount volume-nocopy.
func copiesImageContent(m container.Mount) bool {
	for _, o := range strings.Split(m.Mode, ",") {
		if o == "nocopy" {
			return false
		}
	}
	return true
}

// mountSource is the host directory of a bind or volume mount.
func mountSource(m container.Mount, volumePath func(string) string) string {
	if m.Type == container.MountVolume {
		return volumePath(m.VolumeName)
	}
	return m.Source
}

// lowerMount returns the innermost bind or volume mount that holds dest:
// copy-up gives a tmpfs what the container would see at its path without
// it, which is the content of that mount, or the rootfs when there is
// none. Tmpfs mounts that hold dest are looked through, since their
// content comes from below them too.
func lowerMount(mounts []container.Mount, dest string) (container.Mount, bool) {
	var best container.Mount
	found := false
	for _, m := range mounts {
		if m.Type == container.MountTmpfs || !pathHolds(m.Destination, dest) {
			continue
		}
		if !found || len(m.Destination) > len(best.Destination) {
			best, found = m, true
		}
	}
	return best, found
}

// pathHolds reports whether dest lies strictly below dir; both are clean
// absolute paths.
func pathHolds(dir, dest string) bool {
	return dir != dest && (dir == "/" || strings.HasPrefix(dest, dir+"/"))
}
