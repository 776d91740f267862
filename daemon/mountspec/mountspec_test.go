package mountspec

import (
	"os"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	mounttypes "github.com/moby/moby/api/types/mount"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/container"
)

const (
	defFlags = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	rprivate = unix.MS_PRIVATE | unix.MS_REC
)

var (
	basePolicy = Policy{CopyUp: true, PageSize: 4096}
	max16      = Policy{CopyUp: true, PageSize: 4096, MaxSize: 16 << 20, MaxSizeText: "16m"}
)

// resolveCase is one create request and what Resolve must make of it:
// want (compared in full) or an error containing wantErr.
type resolveCase struct {
	name    string
	req     Request
	policy  Policy
	want    []container.Mount
	wantErr string
	// check, when set, inspects the result instead of want.
	check func(t *testing.T, got []container.Mount)
}

func tmpfsReq(p, opts string) Request {
	return Request{HostConfig: &containertypes.HostConfig{Tmpfs: map[string]string{p: opts}}}
}

func mountsReq(m ...mounttypes.Mount) Request {
	return Request{HostConfig: &containertypes.HostConfig{Mounts: m}}
}

func bindsReq(b ...string) Request {
	return Request{HostConfig: &containertypes.HostConfig{Binds: b}}
}

func vols(v ...string) *containertypes.Config {
	c := &containertypes.Config{Volumes: map[string]struct{}{}}
	for _, p := range v {
		c.Volumes[p] = struct{}{}
	}
	return c
}

func apiTmpfs(target string, o *mounttypes.TmpfsOptions) mounttypes.Mount {
	return mounttypes.Mount{Type: mounttypes.TypeTmpfs, Target: target, TmpfsOptions: o}
}

// resolveCases are the table of TestResolve, also the seeds of FuzzResolve.
var resolveCases = []resolveCase{
	// --tmpfs
	{name: "tmpfs defaults take the image's directory", req: tmpfsReq("/run", ""), policy: basePolicy, want: []container.Mount{{
		Type: container.MountTmpfs, Destination: "/run",
		Tmpfs: &container.Tmpfs{Options: "noexec,nosuid,nodev,rprivate", Flags: defFlags, Propagation: rprivate,
			Data: "mode=755,uid=0,gid=0", Mode: 0o755, CopyUp: true},
	}}},
	{name: "tmpfs user options", req: tmpfsReq("/home/app/", "ro,exec,size=64m,uid=app,gid=wheel,rshared,notmpcopyup"), policy: basePolicy,
		want: []container.Mount{{
			Type: container.MountTmpfs, Destination: "/home/app", ReadOnly: true,
			Tmpfs: &container.Tmpfs{Options: "nosuid,nodev,ro,exec,rshared,size=64m,uid=1000,gid=10,notmpcopyup",
				Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_RDONLY, Propagation: unix.MS_SHARED | unix.MS_REC,
				Data: "size=64m,mode=700,uid=1000,gid=10", SizeBytes: 64 << 20, Mode: 0o700, UID: 1000, GID: 10},
		}}},
	{name: "tmpfs not in the image", req: tmpfsReq("/new", "mode=750,tmpcopyup,nr_inodes=1k"), policy: Policy{PageSize: 4096},
		want: []container.Mount{{
			Type: container.MountTmpfs, Destination: "/new",
			Tmpfs: &container.Tmpfs{Options: "noexec,nosuid,nodev,rprivate,mode=750,nr_inodes=1k,tmpcopyup", Flags: defFlags, Propagation: rprivate,
				Data: "mode=750,uid=0,gid=0,nr_inodes=1k", Mode: 0o750, CopyUp: true},
		}}},
	{name: "tmpfs on a file keeps 1777", req: tmpfsReq("/etc/file", "size=1m"), policy: basePolicy, want: []container.Mount{{
		Type: container.MountTmpfs, Destination: "/etc/file",
		Tmpfs: &container.Tmpfs{Options: "noexec,nosuid,nodev,rprivate,size=1m", Flags: defFlags, Propagation: rprivate,
			Data: "size=1m,mode=1777,uid=0,gid=0", SizeBytes: 1 << 20, Mode: 0o1777, CopyUp: true},
	}}},
	{name: "tmpfs on a symlink", req: tmpfsReq("/var/run", ""), policy: basePolicy, wantErr: "tmpfs destination /var/run is a symbolic link in the image"},
	{name: "tmpfs on a symlink out of the root", req: tmpfsReq("/escape", ""), policy: basePolicy, wantErr: "tmpfs destination /escape is a symbolic link in the image"},
	{name: "tmpfs on /proc", req: tmpfsReq("/proc", ""), policy: basePolicy, wantErr: "tmpfs on /proc is not allowed"},
	{name: "tmpfs on /proc/sys", req: tmpfsReq("/proc/sys/", ""), policy: basePolicy, wantErr: "tmpfs on /proc/sys is not allowed"},
	{name: "tmpfs on /sys", req: tmpfsReq("/sys", ""), policy: basePolicy, wantErr: "tmpfs on /sys is not allowed"},
	{name: "tmpfs on /sys/fs/cgroup", req: tmpfsReq("/sys/fs/cgroup", ""), policy: basePolicy, wantErr: "tmpfs on /sys/fs/cgroup is not allowed"},
	{name: "tmpfs on /dev", req: tmpfsReq("/dev/", ""), policy: basePolicy, wantErr: "tmpfs on /dev is not supported"},
	{name: "tmpfs on /proc/.. is /", req: tmpfsReq("/proc/..", ""), policy: basePolicy, wantErr: "destination can't be '/'"},
	{name: "tmpfs relative", req: tmpfsReq("run", ""), policy: basePolicy, wantErr: "invalid mount path: 'run' mount path must be absolute"},
	{name: "tmpfs unknown option", req: tmpfsReq("/run", "foobar"), policy: basePolicy, wantErr: `tmpfs /run: invalid tmpfs option "foobar"`},
	{name: "tmpfs unknown user", req: tmpfsReq("/run", "uid=nosuch"), policy: basePolicy, wantErr: `invalid tmpfs option "uid=nosuch": no user "nosuch"`},
	{name: "tmpfs unknown group", req: tmpfsReq("/run", "gid=nosuch"), policy: basePolicy, wantErr: `invalid tmpfs option "gid=nosuch": no group "nosuch"`},
	{name: "tmpfs option the kernel lacks", req: tmpfsReq("/run", "huge=always"),
		policy:  Policy{PageSize: 4096, KernelSupports: func(string) bool { return false }},
		wantErr: `invalid tmpfs option "huge" for /run: this kernel's tmpfs does not support it`},

	// --max-tmpfs-size and --default-tmpfs-size, every spelling of a size
	{name: "max: size at the limit", req: tmpfsReq("/run", "size=16m"), policy: max16},
	{name: "max: size in bytes at the limit", req: tmpfsReq("/run", "size=16777216"), policy: max16},
	{name: "max: size above", req: tmpfsReq("/run", "size=17m"), policy: max16, wantErr: "tmpfs /run: size=17m is larger than this daemon's limit of 16m (--max-tmpfs-size)"},
	{name: "max: size one byte above", req: tmpfsReq("/run", "size=16777217"), policy: max16, wantErr: "size=16777217 is larger"},
	{name: "max: no size", req: tmpfsReq("/run", ""), policy: max16, wantErr: "tmpfs /run has no size limit, but this daemon allows at most 16m (--max-tmpfs-size)"},
	{name: "max: size=0", req: tmpfsReq("/run", "size=0"), policy: max16, wantErr: "tmpfs /run: size=0 means no size limit"},
	{name: "max: percent", req: tmpfsReq("/run", "size=50%"), policy: max16, wantErr: "size=50% is a share of memory"},
	{name: "max: nr_blocks=0", req: tmpfsReq("/run", "nr_blocks=0"), policy: max16, wantErr: "tmpfs /run: nr_blocks=0 means no size limit"},
	{name: "max: nr_blocks=1g", req: tmpfsReq("/run", "nr_blocks=1g"), policy: max16, wantErr: "tmpfs /run: nr_blocks=1g is larger than this daemon's limit of 16m"},
	{name: "max: nr_blocks at the limit", req: tmpfsReq("/run", "nr_blocks=4096"), policy: max16},
	{name: "max: nr_blocks=4k at the limit", req: tmpfsReq("/run", "nr_blocks=4k"), policy: max16},
	{name: "max: nr_blocks one page above", req: tmpfsReq("/run", "nr_blocks=4097"), policy: max16, wantErr: "nr_blocks=4097 is larger"},
	{name: "max: nr_blocks overflowing", req: tmpfsReq("/run", "nr_blocks=2000000t"), policy: max16, wantErr: "nr_blocks=2000000t is larger"},
	{name: "max: nr_blocks=0 after size", req: tmpfsReq("/run", "size=1m,nr_blocks=0"), policy: max16, wantErr: "nr_blocks=0 means no size limit"},
	{name: "max: size after nr_blocks=0", req: tmpfsReq("/run", "nr_blocks=0,size=1m"), policy: max16},
	{name: "max: size=0 after size", req: tmpfsReq("/run", "size=1m,size=0"), policy: max16, wantErr: "size=0 means no size limit"},
	{name: "max: without a limit anything goes", req: tmpfsReq("/run", "nr_blocks=0"), policy: basePolicy},
	{name: "default size", req: tmpfsReq("/new", ""), policy: Policy{PageSize: 4096, DefaultSize: 8 << 20, MaxSize: 16 << 20}, want: []container.Mount{{
		Type: container.MountTmpfs, Destination: "/new",
		Tmpfs: &container.Tmpfs{Options: "noexec,nosuid,nodev,rprivate,size=8388608", Flags: defFlags, Propagation: rprivate,
			Data: "size=8388608,mode=1777,uid=0,gid=0", SizeBytes: 8 << 20, Mode: 0o1777},
	}}},
	{name: "default size not for nr_blocks", req: tmpfsReq("/new", "nr_blocks=10"), policy: Policy{PageSize: 4096, DefaultSize: 8 << 20}, want: []container.Mount{{
		Type: container.MountTmpfs, Destination: "/new",
		Tmpfs: &container.Tmpfs{Options: "noexec,nosuid,nodev,rprivate,nr_blocks=10", Flags: defFlags, Propagation: rprivate,
			Data: "mode=1777,uid=0,gid=0,nr_blocks=10", SizeBytes: 40960, Mode: 0o1777},
	}}},
	{name: "max: api nr_blocks=0 over SizeBytes", policy: max16, wantErr: "nr_blocks=0 means no size limit",
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{SizeBytes: 1 << 20, Options: [][]string{{"nr_blocks", "0"}}}))},
	{name: "max: api nr_blocks=1g", policy: max16, wantErr: "nr_blocks=1g is larger",
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{Options: [][]string{{"nr_blocks", "1g"}}}))},
	{name: "max: api percent", policy: max16, wantErr: "size=50% is a share of memory",
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{Options: [][]string{{"size", "50%"}}}))},
	{name: "max: api SizeBytes above", policy: max16, wantErr: `tmpfs /p: size=33554432 is larger than this daemon's limit of 16m`,
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{SizeBytes: 32 << 20}))},
	{name: "max: api no options", policy: max16, wantErr: "tmpfs /p has no size limit",
		req: mountsReq(apiTmpfs("/p", nil))},

	// --mount type=tmpfs
	{name: "api tmpfs", policy: basePolicy,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeTmpfs, Target: "/p/", ReadOnly: true,
			TmpfsOptions: &mounttypes.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o700, Options: [][]string{{"exec"}, {"uid", "app"}}}}),
		want: []container.Mount{{
			Type: container.MountTmpfs, Destination: "/p", ReadOnly: true, FromAPIMounts: true,
			Tmpfs: &container.Tmpfs{Options: "nosuid,nodev,rprivate,ro,exec,size=1048576,mode=700,uid=1000",
				Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_RDONLY, Propagation: rprivate,
				Data: "size=1048576,mode=700,uid=1000,gid=0", SizeBytes: 1 << 20, Mode: 0o700, UID: 1000, CopyUp: true},
		}}},
	{name: "api tmpfs options win over SizeBytes and Mode", policy: basePolicy,
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o700, Options: [][]string{{"size", "2m"}, {"mode", "755"}}})),
		want: []container.Mount{{
			Type: container.MountTmpfs, Destination: "/p", FromAPIMounts: true,
			Tmpfs: &container.Tmpfs{Options: "noexec,nosuid,nodev,rprivate,size=2m,mode=755", Flags: defFlags, Propagation: rprivate,
				Data: "size=2m,mode=755,uid=0,gid=0", SizeBytes: 2 << 20, Mode: 0o755, CopyUp: true},
		}}},
	{name: "api tmpfs unknown option", policy: basePolicy, wantErr: `invalid mount config for type "tmpfs": invalid tmpfs option "foobar"`,
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{Options: [][]string{{"foobar"}}}))},
	{name: "api tmpfs option length", policy: basePolicy, wantErr: "invalid option array length",
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{Options: [][]string{{"a", "b", "c"}}}))},
	{name: "api tmpfs negative size", policy: basePolicy, wantErr: "invalid tmpfs size -1",
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{SizeBytes: -1}))},
	{name: "api tmpfs mode too big", policy: basePolicy, wantErr: "invalid tmpfs mode 17777",
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{Mode: 0o17777}))},
	{name: "api tmpfs on /proc/sys", policy: basePolicy, wantErr: "tmpfs on /proc/sys is not allowed",
		req: mountsReq(apiTmpfs("/proc/sys", nil))},
	{name: "api tmpfs unknown uid", policy: basePolicy, wantErr: `invalid tmpfs option "uid=x"`,
		req: mountsReq(apiTmpfs("/p", &mounttypes.TmpfsOptions{Options: [][]string{{"uid", "x"}}}))},
	{name: "api tmpfs with Source", policy: basePolicy, wantErr: `invalid mount config for type "tmpfs": field Source must not be specified`,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeTmpfs, Source: "x", Target: "/p"})},
	{name: "api tmpfs with BindOptions", policy: basePolicy, wantErr: "field BindOptions must not be specified",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeTmpfs, Target: "/p", BindOptions: &mounttypes.BindOptions{}})},
	{name: "api tmpfs with VolumeOptions", policy: basePolicy, wantErr: "field VolumeOptions must not be specified",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeTmpfs, Target: "/p", VolumeOptions: &mounttypes.VolumeOptions{}})},
	{name: "api no target", policy: basePolicy, wantErr: "field Target must not be empty",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeTmpfs})},
	{name: "api relative target", policy: basePolicy, wantErr: `invalid mount config for type "tmpfs": invalid mount path: 'p' mount path must be absolute`,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeTmpfs, Target: "p"})},
	{name: "api unsupported type", policy: basePolicy, wantErr: `mount type "npipe" is not supported by berth`,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeNamedPipe, Target: "/p"})},

	// --mount type=bind and type=volume
	{name: "api bind", policy: basePolicy,
		req:  mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv/data/", Target: "/data", BindOptions: &mounttypes.BindOptions{Propagation: mounttypes.PropagationRSlave}}),
		want: []container.Mount{{Type: container.MountBind, Destination: "/data", Source: "/srv/data", Propagation: "rslave", FromAPIMounts: true}}},
	{name: "api bind with TmpfsOptions", policy: basePolicy, wantErr: `TmpfsOptions must not be specified on mount type "bind"`,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv", Target: "/p", TmpfsOptions: &mounttypes.TmpfsOptions{}})},
	{name: "api bind with VolumeOptions", policy: basePolicy, wantErr: "field VolumeOptions must not be specified",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv", Target: "/p", VolumeOptions: &mounttypes.VolumeOptions{}})},
	{name: "api bind without source", policy: basePolicy, wantErr: "field Source must not be empty",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Target: "/p"})},
	{name: "api bind relative source", policy: basePolicy, wantErr: "invalid mount path: 'srv' mount path must be absolute",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "srv", Target: "/p"})},
	{name: "api volume", policy: basePolicy,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Source: "vol", Target: "/v", VolumeOptions: &mounttypes.VolumeOptions{NoCopy: true}},
			mounttypes.Mount{Type: mounttypes.TypeVolume, Target: "/anon", ReadOnly: true}),
		want: []container.Mount{
			{Type: container.MountVolume, Destination: "/v", Source: "vol", VolumeName: "vol", Driver: "local", Mode: "nocopy", FromAPIMounts: true},
			{Type: container.MountVolume, Destination: "/anon", ReadOnly: true, Anonymous: true, Driver: "local", FromAPIMounts: true},
		}},
	{name: "api volume with BindOptions", policy: basePolicy, wantErr: "field BindOptions must not be specified",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Target: "/p", BindOptions: &mounttypes.BindOptions{}})},

	// -v / Binds
	{name: "binds", policy: basePolicy, req: bindsReq("/srv/:/data:ro,rslave", "vol:/v:nocopy", "/anon", "/srv:/z:z,rw,unbindable"),
		want: []container.Mount{
			{Type: container.MountBind, Destination: "/data", Source: "/srv", ReadOnly: true, Propagation: "rslave", Mode: "ro,rslave"},
			{Type: container.MountVolume, Destination: "/v", Source: "vol", VolumeName: "vol", Driver: "local", Mode: "nocopy"},
			{Type: container.MountVolume, Destination: "/anon", Anonymous: true, Driver: "local"},
			{Type: container.MountBind, Destination: "/z", Source: "/srv", Propagation: "unbindable", Mode: "z,rw,unbindable"},
		}},
	{name: "bind bad mode", policy: basePolicy, req: bindsReq("/srv:/data:bogus"), wantErr: "invalid mode: bogus"},
	{name: "bind DST:MODE", policy: basePolicy, req: bindsReq("/srv:ro"), wantErr: "invalid volume specification: '/srv:ro'"},
	{name: "bind too many parts", policy: basePolicy, req: bindsReq("a:/b:ro:x"), wantErr: "invalid volume specification: 'a:/b:ro:x'"},
	{name: "bind on /", policy: basePolicy, req: bindsReq("vol:/"), wantErr: "invalid volume specification: 'vol:/': invalid specification: destination can't be '/'"},

	// duplicates and volumes
	{name: "duplicate bind and tmpfs", policy: basePolicy, wantErr: "Duplicate mount point: /p",
		req: Request{HostConfig: &containertypes.HostConfig{Binds: []string{"/srv:/p"}, Tmpfs: map[string]string{"/p/": ""}}}},
	{name: "duplicate api tmpfs and tmpfs", policy: basePolicy, wantErr: "Duplicate mount point: /p",
		req: Request{HostConfig: &containertypes.HostConfig{Mounts: []mounttypes.Mount{apiTmpfs("/p", nil)}, Tmpfs: map[string]string{"/p": ""}}}},
	{name: "image volume replaced by tmpfs, another kept", policy: basePolicy,
		req: Request{Config: vols("/q", "/p/"), Requested: vols(), HostConfig: &containertypes.HostConfig{Tmpfs: map[string]string{"/p": "size=1m"}}},
		want: []container.Mount{
			{Type: container.MountTmpfs, Destination: "/p", Tmpfs: &container.Tmpfs{Options: "noexec,nosuid,nodev,rprivate,size=1m", Flags: defFlags, Propagation: rprivate,
				Data: "size=1m,mode=1777,uid=0,gid=0", SizeBytes: 1 << 20, Mode: 0o1777, CopyUp: true}},
			{Type: container.MountVolume, Destination: "/q", Anonymous: true, Driver: "local"},
		}},
	{name: "requested volume yields to tmpfs", policy: basePolicy,
		req: Request{Config: vols("/p"), Requested: vols("/p"), HostConfig: &containertypes.HostConfig{Tmpfs: map[string]string{"/p": "size=1m"}}},
		want: []container.Mount{{Type: container.MountTmpfs, Destination: "/p", Tmpfs: &container.Tmpfs{Options: "noexec,nosuid,nodev,rprivate,size=1m", Flags: defFlags, Propagation: rprivate,
			Data: "size=1m,mode=1777,uid=0,gid=0", SizeBytes: 1 << 20, Mode: 0o1777, CopyUp: true}}}},
	{name: "requested volume uncleaned yields to api tmpfs", policy: basePolicy,
		req: Request{Config: vols("/p/"), Requested: vols("/p/"), HostConfig: &containertypes.HostConfig{Mounts: []mounttypes.Mount{apiTmpfs("/p", nil)}}},
		check: func(t *testing.T, got []container.Mount) {
			assert.Equal(t, len(got), 1)
			assert.Equal(t, got[0].Type, container.MountTmpfs)
		}},
	{name: "duplicate -v anonymous and tmpfs stay explicit", policy: basePolicy, wantErr: "Duplicate mount point: /p",
		req: Request{HostConfig: &containertypes.HostConfig{Binds: []string{"/p"}, Tmpfs: map[string]string{"/p": ""}}}},
	// Docker skips an anonymous volume whose path is mounted; compose 1.29
	// sends every volume of a service in Config.Volumes too.
	{name: "requested volume and bind", policy: basePolicy,
		req:  Request{Config: vols("/p"), Requested: vols("/p"), HostConfig: &containertypes.HostConfig{Binds: []string{"/srv:/p"}}},
		want: []container.Mount{{Type: container.MountBind, Destination: "/p", Source: "/srv"}}},
	{name: "requested volume and named volume", policy: basePolicy,
		req:  Request{Config: vols("/p"), Requested: vols("/p"), HostConfig: &containertypes.HostConfig{Binds: []string{"data:/p"}}},
		want: []container.Mount{{Type: container.MountVolume, Destination: "/p", Source: "data", VolumeName: "data", Driver: "local"}}},
	{name: "requested volume and -v of it", policy: basePolicy,
		req:  Request{Config: vols("/p"), Requested: vols("/p"), HostConfig: &containertypes.HostConfig{Binds: []string{"/p"}}},
		want: []container.Mount{{Type: container.MountVolume, Destination: "/p", Anonymous: true, Driver: "local"}}},

	// HostConfig.Mounts sub-fields: each works or is refused naming it
	{name: "bind options", policy: basePolicy,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv/", Target: "/p", Consistency: mounttypes.ConsistencyCached,
			BindOptions: &mounttypes.BindOptions{Propagation: mounttypes.PropagationRSlave, NonRecursive: true, CreateMountpoint: true}}),
		want: []container.Mount{{Type: container.MountBind, Source: "/srv", Destination: "/p", Propagation: "rslave", NonRecursive: true, CreateMountpoint: true, FromAPIMounts: true}}},
	// Shared propagation is kept: its host side (a shared source) is
	// checked by the daemon, which reads the host's mounts.
	{name: "bind rshared", policy: basePolicy,
		req:  mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv", Target: "/p", BindOptions: &mounttypes.BindOptions{Propagation: mounttypes.PropagationRShared}}),
		want: []container.Mount{{Type: container.MountBind, Source: "/srv", Destination: "/p", Propagation: "rshared", FromAPIMounts: true}}},
	{name: "-v shared", policy: basePolicy, req: bindsReq("/srv:/data:shared"),
		want: []container.Mount{{Type: container.MountBind, Source: "/srv", Destination: "/data", Mode: "shared", Propagation: "shared"}}},
	{name: "bind read-only force recursive", policy: basePolicy,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv", Target: "/p", ReadOnly: true,
			BindOptions: &mounttypes.BindOptions{ReadOnlyForceRecursive: true}}),
		want: []container.Mount{{Type: container.MountBind, Source: "/srv", Destination: "/p", ReadOnly: true, ReadOnlyForceRecursive: true, FromAPIMounts: true}}},
	{name: "bind read-only non-recursive", policy: basePolicy,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv", Target: "/p", ReadOnly: true,
			BindOptions: &mounttypes.BindOptions{ReadOnlyNonRecursive: true}}),
		want: []container.Mount{{Type: container.MountBind, Source: "/srv", Destination: "/p", ReadOnly: true, ReadOnlyNonRecursive: true, FromAPIMounts: true}}},
	{name: "bind read-only options without ReadOnly", policy: basePolicy, wantErr: "require ReadOnly",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv", Target: "/p", BindOptions: &mounttypes.BindOptions{ReadOnlyNonRecursive: true}})},
	{name: "bind read-only both", policy: basePolicy, wantErr: "mutually exclusive",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv", Target: "/p", ReadOnly: true,
			BindOptions: &mounttypes.BindOptions{ReadOnlyNonRecursive: true, ReadOnlyForceRecursive: true}})},
	{name: "bind force recursive and non-recursive", policy: basePolicy, wantErr: "requires a recursive bind",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv", Target: "/p", ReadOnly: true,
			BindOptions: &mounttypes.BindOptions{NonRecursive: true, ReadOnlyForceRecursive: true}})},
	{name: "bind bad propagation", policy: basePolicy, wantErr: "invalid propagation mode: sideways",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeBind, Source: "/srv", Target: "/p", BindOptions: &mounttypes.BindOptions{Propagation: "sideways"}})},
	{name: "volume labels and nocopy", policy: basePolicy,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Source: "data", Target: "/p",
			VolumeOptions: &mounttypes.VolumeOptions{NoCopy: true, Labels: map[string]string{"a": "b"}, DriverConfig: &mounttypes.Driver{Name: "local"}}}),
		want: []container.Mount{{Type: container.MountVolume, Source: "data", VolumeName: "data", Destination: "/p", Driver: "local", Mode: "nocopy",
			VolumeLabels: map[string]string{"a": "b"}, FromAPIMounts: true}}},
	{name: "volume subpath", policy: basePolicy,
		req:  mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Source: "data", Target: "/p", VolumeOptions: &mounttypes.VolumeOptions{Subpath: "a/./b/"}}),
		want: []container.Mount{{Type: container.MountVolume, Source: "data", VolumeName: "data", Destination: "/p", Driver: "local", Subpath: "a/b", FromAPIMounts: true}}},
	{name: "volume subpath absolute", policy: basePolicy, wantErr: "subpath must be a relative path within the volume: /etc",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Source: "data", Target: "/p", VolumeOptions: &mounttypes.VolumeOptions{Subpath: "/etc"}})},
	{name: "volume subpath leaving", policy: basePolicy, wantErr: "subpath must be a relative path within the volume: a/../../x",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Source: "data", Target: "/p", VolumeOptions: &mounttypes.VolumeOptions{Subpath: "a/../../x"}})},
	{name: "volume subpath anonymous", policy: basePolicy, wantErr: "VolumeOptions.Subpath needs a named volume",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Target: "/p", VolumeOptions: &mounttypes.VolumeOptions{Subpath: "a"}})},
	{name: "volume driver", policy: basePolicy, wantErr: `Mount.VolumeOptions.DriverConfig.Name "nfs" is not supported`,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Source: "data", Target: "/p", VolumeOptions: &mounttypes.VolumeOptions{DriverConfig: &mounttypes.Driver{Name: "nfs"}}})},
	{name: "volume driver options", policy: basePolicy,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Source: "data", Target: "/p",
			VolumeOptions: &mounttypes.VolumeOptions{DriverConfig: &mounttypes.Driver{Options: map[string]string{"type": "tmpfs", "o": "size=1m"}}}}),
		want: []container.Mount{{Type: container.MountVolume, Source: "data", VolumeName: "data", Destination: "/p", Driver: "local",
			VolumeDriverOpts: map[string]string{"type": "tmpfs", "o": "size=1m"}, FromAPIMounts: true}}},
	{name: "cluster options", policy: basePolicy, wantErr: "Mount.ClusterOptions: not supported by berth",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeVolume, Source: "data", Target: "/p", ClusterOptions: &mounttypes.ClusterOptions{}})},
	{name: "image options", policy: basePolicy, wantErr: "Mount.ImageOptions: not supported by berth",
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeImage, Source: "busybox", Target: "/p", ImageOptions: &mounttypes.ImageOptions{}})},
	{name: "type npipe", policy: basePolicy, wantErr: `mount type "npipe" is not supported by berth`,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeNamedPipe, Source: "/x", Target: "/p"})},
	{name: "type cluster", policy: basePolicy, wantErr: `mount type "cluster" is not supported by berth`,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeCluster, Source: "x", Target: "/p"})},
	{name: "type image", policy: basePolicy, wantErr: `mount type "image" is not supported by berth`,
		req: mountsReq(mounttypes.Mount{Type: mounttypes.TypeImage, Source: "busybox", Target: "/p"})},
	{name: "relative volume", policy: basePolicy, req: Request{Config: vols("p")}, wantErr: "invalid mount path: 'p' mount path must be absolute"},
	{name: "nothing", policy: basePolicy, req: Request{}},
}

func TestResolve(t *testing.T) {
	t.Parallel()
	for _, tc := range resolveCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Resolve(tc.req, testImage, tc.policy)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				assert.Assert(t, errdefs.IsInvalidArgument(err), "%v is not an invalid-argument error", err)
				assert.Assert(t, got == nil)
				return
			}
			assert.NilError(t, err)
			if tc.want != nil {
				assert.DeepEqual(t, got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func TestResolveSizeLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts string
		want int64
	}{
		{"size=16m", 16 << 20},
		{"nr_blocks=4096", 16 << 20},
		{"nr_blocks=0,size=1m", 1 << 20},
		{"size=50%", 0},
		{"nr_blocks=0", 0},
		{"", 0},
	} {
		got, err := Resolve(tmpfsReq("/run", tc.opts), testImage, Policy{PageSize: 4096})
		assert.NilError(t, err, tc.opts)
		assert.Equal(t, got[0].Tmpfs.SizeBytes, tc.want, tc.opts)
	}
}

func TestNewPolicy(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy("", "", true)
	assert.NilError(t, err)
	assert.Equal(t, p.DefaultSize, int64(0))
	assert.Equal(t, p.MaxSize, int64(0))
	assert.Equal(t, p.CopyUp, true)
	assert.Equal(t, p.PageSize, int64(os.Getpagesize()))
	assert.Assert(t, p.KernelSupports != nil)

	p, err = NewPolicy("64m", "1g", false)
	assert.NilError(t, err)
	assert.Equal(t, p.DefaultSize, int64(64<<20))
	assert.Equal(t, p.MaxSize, int64(1<<30))
	assert.Equal(t, p.MaxSizeText, "1g")
	assert.Equal(t, p.CopyUp, false)

	for _, tc := range []struct{ def, max, want string }{
		{"lots", "", `default-tmpfs-size: invalid size "lots"`},
		{"", "0", `max-tmpfs-size: invalid size "0"`},
		{"2g", "1g", "default-tmpfs-size 2g is larger than max-tmpfs-size 1g"},
	} {
		_, err := NewPolicy(tc.def, tc.max, true)
		assert.ErrorContains(t, err, tc.want)
		assert.Assert(t, errdefs.IsInvalidArgument(err))
	}
}

func TestResolveDefaultTmpfs(t *testing.T) {
	t.Parallel()
	label := "image label io.berth.tmpfs"
	defaults := []DefaultTmpfs{{"/run", "", label}, {"/tmp", "size=1m", label}, {"/data", "", label}, {"/cache", "", label}, {"/vol", "", label}}
	req := Request{
		Config:       vols("/vol", "/imgvol"),
		Requested:    vols("/vol"),
		HostConfig:   &containertypes.HostConfig{Tmpfs: map[string]string{"/run": "size=2m"}, Binds: []string{"/srv:/data"}},
		DefaultTmpfs: append(defaults, DefaultTmpfs{"/imgvol", "", label}),
	}
	got, err := Resolve(req, testImage, basePolicy)
	assert.NilError(t, err)
	byDst := map[string]container.Mount{}
	for _, m := range got {
		byDst[m.Destination] = m
	}
	assert.Equal(t, byDst["/run"].Origin, "", "the request's --tmpfs wins")
	assert.Equal(t, byDst["/run"].Tmpfs.SizeBytes, int64(2<<20))
	assert.Equal(t, byDst["/data"].Type, container.MountBind, "the request's bind wins")
	assert.Equal(t, byDst["/vol"].Type, container.MountVolume, "the request's -v wins")
	assert.Equal(t, byDst["/tmp"].Origin, label)
	assert.Equal(t, byDst["/tmp"].Tmpfs.SizeBytes, int64(1<<20))
	assert.Equal(t, byDst["/cache"].Type, container.MountTmpfs)
	assert.Equal(t, byDst["/imgvol"].Type, container.MountTmpfs, "a default tmpfs replaces an image VOLUME, as --tmpfs does")
	assert.Equal(t, len(got), 6)

	for _, bad := range []DefaultTmpfs{{"/x", "size=lots", label}, {"/proc/x", "", label}, {"x", "", label}} {
		_, err := Resolve(Request{DefaultTmpfs: []DefaultTmpfs{bad}}, testImage, max16)
		assert.Check(t, errdefs.IsInvalidArgument(err), "%v", err)
		assert.ErrorContains(t, err, label+": ")
	}
	_, err = Resolve(Request{DefaultTmpfs: []DefaultTmpfs{{"/x", "", label}}}, testImage, max16)
	assert.ErrorContains(t, err, label+": tmpfs /x has no size limit")
}
