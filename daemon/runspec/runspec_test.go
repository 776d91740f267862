package runspec

import (
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/oci"
	"github.com/berth-project/berth/daemon/shim"
)

var defaults = Defaults{
	Runtime:     "/usr/sbin/runc",
	RuntimeRoot: "/run/berth/runtime",
	ShimDir:     "/run/berth/containers/c1",
	ShimSocket:  "/run/berth/s/c1.sock",
	ShmSize:     64 << 20,
	HostCaps:    []string{"CAP_CHOWN"},
	HardNofile:  4096,
	VolumePath:  func(name string) string { return "/var/lib/berth/volumes/" + name + "/_data" },
}

func newContainer(hc *containertypes.HostConfig, mounts ...container.Mount) *container.Container {
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	return &container.Container{
		ID:         "c1",
		Root:       "/var/lib/berth/containers/c1",
		Layers:     []string{"/l/2", "/l/1"},
		Config:     &containertypes.Config{Hostname: "c1", Cmd: []string{"sh"}, Entrypoint: []string{"/init"}},
		HostConfig: hc,
		User:       container.ExecUser{UID: 1000, GID: 100, AdditionalGids: []int{10, 20}, Home: "/home/app"},
		Mounts:     mounts,
	}
}

func tmpfsMount(dst string, flags, prop uintptr) container.Mount {
	return container.Mount{Type: container.MountTmpfs, Destination: dst, Tmpfs: &container.Tmpfs{
		Flags: flags, Propagation: prop, Data: "size=1m,mode=1777,uid=0,gid=0", CopyUp: true}}
}

func TestBuildMounts(t *testing.T) {
	t.Parallel()
	const def = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	c := newContainer(&containertypes.HostConfig{ReadonlyRootfs: true},
		container.Mount{Type: container.MountBind, Destination: "/data", Source: "/srv"},
		tmpfsMount("/data/cache", def|unix.MS_RDONLY, unix.MS_SHARED|unix.MS_REC),
		container.Mount{Type: container.MountVolume, Destination: "/v", VolumeName: "vol", ReadOnly: true, Propagation: "rslave"},
		container.Mount{Type: container.MountVolume, Destination: "/w", VolumeName: "nc", Mode: "z,nocopy"},
		tmpfsMount("/run", def, unix.MS_PRIVATE|unix.MS_REC),
		tmpfsMount("/v/tmp", unix.MS_NOSUID, unix.MS_PRIVATE|unix.MS_REC),
	)
	cfg, in := Build(c, defaults)
	assert.DeepEqual(t, cfg, shim.Config{
		ID:          "c1",
		Runtime:     "/usr/sbin/runc",
		RuntimeRoot: "/run/berth/runtime/runc",
		Bundle:      "/run/berth/containers/c1/bundle",
		Rootfs:      shim.Rootfs{Lower: []string{"/var/lib/berth/containers/c1/mountpoints", "/l/2", "/l/1"}},
		Tmpfs: []shim.TmpfsMount{
			{Destination: "/data/cache", Staging: "/run/berth/containers/c1/tmpfs/1", Flags: def | unix.MS_RDONLY,
				Data: "size=1m,mode=1777,uid=0,gid=0", CopyUp: true, Lower: "/srv", LowerDestination: "/data"},
			{Destination: "/run", Staging: "/run/berth/containers/c1/tmpfs/4", Flags: def,
				Data: "size=1m,mode=1777,uid=0,gid=0", CopyUp: true},
			{Destination: "/v/tmp", Staging: "/run/berth/containers/c1/tmpfs/5", Flags: unix.MS_NOSUID,
				Data: "size=1m,mode=1777,uid=0,gid=0", CopyUp: true, Lower: "/var/lib/berth/volumes/vol/_data", LowerDestination: "/v"},
		},
		LogPath:     "/var/lib/berth/containers/c1/c1-json.log",
		ExitPath:    "/var/lib/berth/containers/c1/exit.json",
		Socket:      "/run/berth/s/c1.sock",
		CgroupsPath: "/berth/c1",
		Volumes:     []shim.VolumeCopy{{Destination: "/v", Path: "/var/lib/berth/volumes/vol/_data"}},
	})
	assert.DeepEqual(t, in.Mounts, []oci.Mount{
		{Destination: "/data", Type: "bind", Source: "/srv", Options: []string{"rbind", "rw", "rprivate"}},
		{Destination: "/data/cache", Type: "bind", Source: "/run/berth/containers/c1/tmpfs/1", Options: []string{"rbind", "nosuid", "nodev", "noexec", "ro", "rshared"}},
		{Destination: "/v", Type: "bind", Source: "/var/lib/berth/volumes/vol/_data", Options: []string{"rbind", "ro", "rslave"}},
		{Destination: "/w", Type: "bind", Source: "/var/lib/berth/volumes/nc/_data", Options: []string{"rbind", "rw", "rprivate"}},
		{Destination: "/run", Type: "bind", Source: "/run/berth/containers/c1/tmpfs/4", Options: []string{"rbind", "nosuid", "nodev", "noexec", "rw", "rprivate"}},
		{Destination: "/v/tmp", Type: "bind", Source: "/run/berth/containers/c1/tmpfs/5", Options: []string{"rbind", "nosuid", "rw", "rprivate"}},
	})
	assert.Equal(t, in.ReadonlyRootfs, true)
	assert.Equal(t, in.Rootfs, "/run/berth/containers/c1/bundle/rootfs")

	// The spec built from it is valid.
	_, err := oci.Build(in)
	assert.NilError(t, err)
}

func TestBuildWritableRootfs(t *testing.T) {
	t.Parallel()
	cfg, in := Build(newContainer(nil), defaults)
	assert.Equal(t, cfg.Rootfs.Upper, "/var/lib/berth/containers/c1/rw/upper")
	assert.Equal(t, cfg.Rootfs.Work, "/var/lib/berth/containers/c1/rw/work")
	assert.Equal(t, in.ReadonlyRootfs, false)
	assert.Assert(t, in.Mounts == nil)
}

func TestBuildProcess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     []string
		tty     bool
		home    string
		wantEnv []string
	}{
		{name: "defaults", home: "/home/app",
			wantEnv: []string{"HOSTNAME=c1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/home/app"}},
		{name: "no home", wantEnv: []string{"HOSTNAME=c1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/"}},
		{name: "image values kept", env: []string{"PATH=/bin", "HOME=/root", "TERM=dumb"}, tty: true, home: "/home/app",
			wantEnv: []string{"HOSTNAME=c1", "PATH=/bin", "HOME=/root", "TERM=dumb"}},
		{name: "tty", tty: true, env: []string{"PATH=/bin"},
			wantEnv: []string{"HOSTNAME=c1", "PATH=/bin", "HOME=/", "TERM=xterm"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(nil)
			c.Config.Env, c.Config.Tty, c.User.Home = tc.env, tc.tty, tc.home
			cfg, in := Build(c, defaults)
			assert.DeepEqual(t, in.Env, tc.wantEnv)
			assert.Equal(t, in.Terminal, tc.tty)
			assert.Equal(t, cfg.Terminal, tc.tty)
			assert.DeepEqual(t, in.Args, []string{"/init", "sh"})
			assert.Equal(t, in.UID, uint32(1000))
			assert.Equal(t, in.GID, uint32(100))
			assert.DeepEqual(t, in.AdditionalGids, []uint32{10, 20})
		})
	}
}

func TestBuildHostConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		hc    containertypes.HostConfig
		check func(t *testing.T, in oci.Input)
	}{
		{"defaults", containertypes.HostConfig{}, func(t *testing.T, in oci.Input) {
			assert.Equal(t, in.ShmSize, int64(64<<20))
			assert.Equal(t, in.NetworkMode, "private")
			assert.Equal(t, in.IpcMode, "")
			assert.Assert(t, in.OomScoreAdj == nil)
			assert.DeepEqual(t, in.HostCapabilities, []string{"CAP_CHOWN"})
			assert.DeepEqual(t, in.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 4096, Soft: 4096}})
			assert.Equal(t, in.CgroupsPath, "/berth/c1")
		}},
		{"set", containertypes.HostConfig{ShmSize: 1 << 20, NetworkMode: "host", IpcMode: "shareable", PidMode: "host", UTSMode: "host",
			OomScoreAdj: 500, SecurityOpt: []string{"no-new-privileges:true"}, Privileged: true,
			CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"CHOWN"}, Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}},
			func(t *testing.T, in oci.Input) {
				assert.Equal(t, in.ShmSize, int64(1<<20))
				assert.Equal(t, in.NetworkMode, "host")
				assert.Equal(t, in.IpcMode, "private")
				assert.Equal(t, in.PidMode, "host")
				assert.Equal(t, in.UTSMode, "host")
				assert.Equal(t, *in.OomScoreAdj, 500)
				assert.Equal(t, in.Privileged, true)
				assert.DeepEqual(t, in.CapAdd, []string{"NET_ADMIN"})
				assert.DeepEqual(t, in.CapDrop, []string{"CHOWN"})
				assert.Equal(t, in.Sysctls["net.ipv4.ip_forward"], "1")
			}},
		{"none", containertypes.HostConfig{NetworkMode: "none"}, func(t *testing.T, in oci.Input) {
			assert.Equal(t, in.NetworkMode, "none")
		}},
		{"user network", containertypes.HostConfig{NetworkMode: "mynet"}, func(t *testing.T, in oci.Input) {
			assert.Equal(t, in.NetworkMode, "private")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hc := tc.hc
			_, in := Build(newContainer(&hc), defaults)
			tc.check(t, in)
		})
	}
}

func TestRlimits(t *testing.T) {
	t.Parallel()
	assert.Assert(t, Rlimits(nil, 0) == nil)
	assert.DeepEqual(t, Rlimits(nil, 2000), []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 2000, Soft: 2000}})
	assert.DeepEqual(t, Rlimits(nil, 1<<30), []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1048576, Soft: 1048576}})
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	assert.Equal(t, TmpfsStaging("/x/containers/c", 3), "/x/containers/c/tmpfs/3")
	assert.Assert(t, HasEnv([]string{"A=1", "PATH"}, "PATH"))
	assert.Assert(t, !HasEnv([]string{"PATHX=1"}, "PATH"))
	assert.Assert(t, copiesImageContent(container.Mount{Type: container.MountVolume, Mode: "z"}))
	assert.Assert(t, !copiesImageContent(container.Mount{Type: container.MountVolume, Mode: "ro,nocopy"}))
}

// TestBuildTmpfsVolumeNoCopy: a tmpfs volume (the local driver's
// type=tmpfs) is not filled from the image; a plain volume is.
func TestBuildTmpfsVolumeNoCopy(t *testing.T) {
	t.Parallel()
	c := newContainer(nil,
		container.Mount{Type: container.MountVolume, Destination: "/t", VolumeName: "tv"},
		container.Mount{Type: container.MountVolume, Destination: "/p", VolumeName: "pv"},
	)
	d := defaults
	d.VolumeIsTmpfs = func(name string) bool { return name == "tv" }
	cfg, in := Build(c, d)
	assert.DeepEqual(t, cfg.Volumes, []shim.VolumeCopy{{Destination: "/p", Path: "/var/lib/berth/volumes/pv/_data"}})
	assert.Equal(t, in.Mounts[0].Source, "/var/lib/berth/volumes/tv/_data")
}

// TestBuildReadOnlyVolume: a volume whose own mount is read-only is
// mounted read-only in the container, also where the container's mount
// did not ask for it and through a subpath.
func TestBuildReadOnlyVolume(t *testing.T) {
	t.Parallel()
	c := newContainer(nil,
		container.Mount{Type: container.MountVolume, Destination: "/r", VolumeName: "rov"},
		container.Mount{Type: container.MountVolume, Destination: "/s", VolumeName: "rov", Subpath: "a"},
		container.Mount{Type: container.MountVolume, Destination: "/w", VolumeName: "rwv"},
	)
	d := defaults
	d.SourceIsReadOnly = func(path string) bool { return path == "/var/lib/berth/volumes/rov/_data" }
	opts := mountOptions(Build(c, d))
	assert.DeepEqual(t, opts["/r"], []string{"rbind", "ro", "rprivate"})
	assert.DeepEqual(t, opts["/s"], []string{"rbind", "ro", "rprivate"})
	assert.DeepEqual(t, opts["/w"], []string{"rbind", "rw", "rprivate"})
}

// TestBuildBindOnReadOnlyMount: a bind whose source is on a read-only
// mount is read-only in the container where it asked for nothing; its
// submounts keep their flags (no rro), and an explicit ro stays as it is.
func TestBuildBindOnReadOnlyMount(t *testing.T) {
	t.Parallel()
	c := newContainer(nil,
		container.Mount{Type: container.MountBind, Destination: "/r", Source: "/ro-mount"},
		container.Mount{Type: container.MountBind, Destination: "/e", Source: "/ro-mount", ReadOnly: true},
		container.Mount{Type: container.MountBind, Destination: "/w", Source: "/rw-mount"},
	)
	d := defaults
	d.RecursiveReadOnly = true
	d.SourceIsReadOnly = func(path string) bool { return path == "/ro-mount" }
	opts := mountOptions(Build(c, d))
	assert.DeepEqual(t, opts["/r"], []string{"rbind", "ro", "rprivate"})
	assert.DeepEqual(t, opts["/e"], []string{"rbind", "ro", "rro", "rprivate"})
	assert.DeepEqual(t, opts["/w"], []string{"rbind", "rw", "rprivate"})
}

// mountOptions maps each mount of a built spec's input to its options.
func mountOptions(_ shim.Config, in oci.Input) map[string][]string {
	opts := map[string][]string{}
	for _, m := range in.Mounts {
		opts[m.Destination] = m.Options
	}
	return opts
}
