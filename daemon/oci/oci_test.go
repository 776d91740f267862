package oci

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
)

// base is a typical container; golden cases change a few fields of it.
func base() Input {
	return Input{
		ID:             "c0ffee",
		Hostname:       "c0ffee",
		Rootfs:         "/var/lib/berth/containers/c0ffee/rootfs",
		Args:           []string{"sh", "-c", "echo hi"},
		Env:            []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=c0ffee", "HOME=/root"},
		HostsPath:      "/var/lib/berth/containers/c0ffee/hosts",
		HostnamePath:   "/var/lib/berth/containers/c0ffee/hostname",
		ResolvConfPath: "/var/lib/berth/containers/c0ffee/resolv.conf",
		NetworkMode:    "private",
		CgroupsPath:    "/berth/c0ffee",
		Rlimits:        []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 20000}},
	}
}

// staged is a tmpfs the shim prepared in a staging directory, handed to the
// runtime as a bind mount with the tmpfs's flags.
func staged(dest, n string) Mount {
	return Mount{
		Destination: dest,
		Type:        "bind",
		Source:      "/run/berth/c0ffee/tmpfs/" + n,
		Options:     []string{"rbind", "rprivate", "nosuid", "nodev", "noexec"},
	}
}

func TestBuildGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Input)
	}{
		{name: "plain", change: func(*Input) {}},
		{name: "readonly-tmpfs", change: func(in *Input) {
			in.ReadonlyRootfs = true
			// Deliberately children first: Build sorts.
			in.Mounts = []Mount{
				{Destination: "/run/test", Type: "bind", Source: "/srv/test", Options: []string{"rbind", "ro", "rprivate"}},
				staged("/tmp", "2"),
				staged("/run/", "1"),
			}
		}},
		{name: "tmpfs-dev-shm", change: func(in *Input) {
			in.ShmSize = 1 << 30 // ignored: the user's /dev/shm replaces the default
			in.Mounts = []Mount{staged("/dev/shm", "1")}
		}},
		{name: "user-dev", change: func(in *Input) {
			in.Mounts = []Mount{{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind", "rprivate"}}}
		}},
		{name: "tmpfs-etc", change: func(in *Input) {
			in.ReadonlyRootfs = true
			in.Mounts = []Mount{staged("/etc", "1")}
		}},
		{name: "network-host", change: func(in *Input) {
			in.NetworkMode = "host"
			in.Hostname = "buildhost"
		}},
		{name: "privileged", change: func(in *Input) {
			in.Privileged = true
			in.ReadonlyRootfs = true
			in.Seccomp = Seccomp{Profile: `{"defaultAction":"SCMP_ACT_ERRNO"}`} // ignored, as Docker
			in.MaskedPaths = []string{"/proc/kcore"}                            // ignored, as Docker
			major, minor := int64(10), int64(229)
			mode := os.FileMode(0o600)
			in.HostDevices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: major, Minor: minor, FileMode: &mode}}
		}},
		{name: "systempaths-unconfined", change: func(in *Input) {
			in.MaskedPaths, in.ReadonlyPaths = []string{}, []string{}
			in.Seccomp = Seccomp{Unconfined: true}
		}},
		{name: "cap-add-drop", change: func(in *Input) {
			in.CapAdd = []string{"net_admin", "CAP_SYS_PTRACE", "chown"}
			in.CapDrop = []string{"MKNOD", "cap_net_raw"}
		}},
		{name: "resources", change: func(in *Input) {
			limit, swap, quota, pids := int64(32<<20), int64(64<<20), int64(50000), int64(20)
			period, shares := uint64(100000), uint64(512)
			in.Resources = &specs.LinuxResources{
				Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap},
				CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period, Cpus: "0-1"},
				Pids:   &specs.LinuxPids{Limit: &pids},
				// Ignored: the device rules are Build's own.
				Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}},
			}
			in.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}}
		}},
		{name: "everything", change: func(in *Input) {
			in.Domainname = "example.org"
			in.Cwd = "/srv/app/"
			in.UID, in.GID, in.AdditionalGids = 1000, 1000, []uint32{10, 20}
			in.Terminal = true
			in.ShmSize = 128 << 20
			in.IpcMode, in.PidMode = "private", "host"
			in.NoNewPrivileges = true
			in.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "0"}
			adj := 500
			in.OomScoreAdj = &adj
			in.Annotations = map[string]string{"org.berth.id": "c0ffee"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := base()
			tc.change(&in)
			s, err := Build(in)
			assert.NilError(t, err)
			// The syscall rules of the default profile have a golden file
			// of their own (seccomp-default.golden); here only the header.
			if s.Linux.Seccomp != nil {
				s.Linux.Seccomp.Syscalls = nil
			}
			out, err := json.MarshalIndent(s, "", "  ")
			assert.NilError(t, err)
			golden.Assert(t, string(out)+"\n", tc.name+".golden")
		})
	}
}

func destinations(s *specs.Spec) []string {
	var d []string
	for _, m := range s.Mounts {
		d = append(d, m.Destination)
	}
	return d
}

func findMount(s *specs.Spec, dest string) (specs.Mount, bool) {
	for _, m := range s.Mounts {
		if m.Destination == dest {
			return m, true
		}
	}
	return specs.Mount{}, false
}

func TestMountOrderAndReplacement(t *testing.T) {
	t.Parallel()
	in := base()
	in.ReadonlyRootfs = true
	in.Mounts = []Mount{staged("/etc", "1"), {Destination: "/etc/resolv.conf", Type: "bind", Source: "/my/resolv.conf", Options: []string{"rbind", "rprivate"}}}
	s, err := Build(in)
	assert.NilError(t, err)
	assert.DeepEqual(t, destinations(s), []string{
		"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm",
		"/etc", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
	})
	resolv, _ := findMount(s, "/etc/resolv.conf")
	assert.Equal(t, resolv.Source, "/my/resolv.conf", "the user's mount wins over the daemon's")
	hosts, _ := findMount(s, "/etc/hosts")
	assert.DeepEqual(t, hosts.Options, []string{"rbind", "ro", "rprivate"})

	in.ReadonlyRootfs = false
	s, err = Build(in)
	assert.NilError(t, err)
	hosts, _ = findMount(s, "/etc/hosts")
	assert.DeepEqual(t, hosts.Options, []string{"rbind", "rprivate"})
}

func TestShmAndIpcModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ipc      string
		shmSize  int64
		wantShm  *specs.Mount
		wantIpcN bool
	}{
		{ipc: "", wantIpcN: true, wantShm: &specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}}},
		{ipc: "private", shmSize: 1 << 20, wantIpcN: true, wantShm: &specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=1048576"}}},
		{ipc: "none", wantIpcN: true},
		{ipc: "host", wantShm: &specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm",
			Options: []string{"rbind", "rprivate"}}},
	}
	for _, tc := range tests {
		in := base()
		in.IpcMode, in.ShmSize = tc.ipc, tc.shmSize
		s, err := Build(in)
		assert.NilError(t, err, tc.ipc)
		shm, ok := findMount(s, "/dev/shm")
		if tc.wantShm == nil {
			assert.Check(t, !ok, "ipc %q: unexpected /dev/shm", tc.ipc)
		} else {
			assert.Check(t, is.DeepEqual(shm, *tc.wantShm), "ipc %q", tc.ipc)
		}
		assert.Check(t, is.Equal(hasNamespace(s, specs.IPCNamespace), tc.wantIpcN), "ipc %q", tc.ipc)
	}
}

func hasNamespace(s *specs.Spec, typ specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == typ {
			return true
		}
	}
	return false
}

func TestNamespaces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*Input)
		want    []specs.LinuxNamespaceType
		wantErr string
	}{
		{name: "defaults", change: func(in *Input) { in.NetworkMode = "" },
			want: []specs.LinuxNamespaceType{"mount", "network", "uts", "pid", "ipc"}},
		{name: "network none", change: func(in *Input) { in.NetworkMode = "none" },
			want: []specs.LinuxNamespaceType{"mount", "network", "uts", "pid", "ipc"}},
		{name: "all host", change: func(in *Input) { in.NetworkMode, in.IpcMode, in.PidMode, in.UTSMode = "host", "host", "host", "host" },
			want: []specs.LinuxNamespaceType{"mount"}},
		{name: "pid host", change: func(in *Input) { in.PidMode = "host" },
			want: []specs.LinuxNamespaceType{"mount", "network", "uts", "ipc"}},
		{name: "network container", change: func(in *Input) { in.NetworkMode = "container:abc" },
			wantErr: `unsupported network mode "container:abc"`},
		{name: "ipc bogus", change: func(in *Input) { in.IpcMode = "shareable" },
			wantErr: `unsupported IPC mode "shareable"`},
		{name: "pid bogus", change: func(in *Input) { in.PidMode = "none" },
			wantErr: `unsupported PID mode "none"`},
		{name: "uts bogus", change: func(in *Input) { in.UTSMode = "x" },
			wantErr: `unsupported UTS mode "x"`},
	}
	for _, tc := range tests {
		in := base()
		tc.change(&in)
		s, err := Build(in)
		if tc.wantErr != "" {
			assert.Check(t, is.ErrorContains(err, tc.wantErr), tc.name)
			assert.Check(t, errdefs.IsInvalidArgument(err), tc.name)
			continue
		}
		assert.NilError(t, err, tc.name)
		var got []specs.LinuxNamespaceType
		for _, ns := range s.Linux.Namespaces {
			got = append(got, ns.Type)
		}
		assert.Check(t, is.DeepEqual(got, tc.want), tc.name)
	}
}

func TestUTSHostDropsHostname(t *testing.T) {
	t.Parallel()
	in := base()
	in.UTSMode, in.Domainname = "host", "example.org"
	s, err := Build(in)
	assert.NilError(t, err)
	assert.Equal(t, s.Hostname, "")
	assert.Equal(t, s.Domainname, "")
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*Input)
		wantErr string
	}{
		{name: "no rootfs", change: func(in *Input) { in.Rootfs = "" }, wantErr: "no root filesystem given"},
		{name: "no args", change: func(in *Input) { in.Args = nil }, wantErr: "no command specified"},
		{name: "relative cwd", change: func(in *Input) { in.Cwd = "app" }, wantErr: `working directory "app" is not an absolute path`},
		{name: "relative mount", change: func(in *Input) { in.Mounts = []Mount{{Destination: "tmp", Type: "tmpfs"}} },
			wantErr: `mount destination "tmp" is not an absolute path`},
		{name: "root mount", change: func(in *Input) { in.Mounts = []Mount{{Destination: "/", Type: "bind"}} },
			wantErr: `mount destination can't be '/'`},
		{name: "untyped mount", change: func(in *Input) { in.Mounts = []Mount{{Destination: "/x"}} },
			wantErr: `mount at "/x" has no type`},
		{name: "duplicate mount", change: func(in *Input) { in.Mounts = []Mount{staged("/run", "1"), staged("/run/", "2")} },
			wantErr: "Duplicate mount point: /run"},
		{name: "negative shm", change: func(in *Input) { in.ShmSize = -1 }, wantErr: "invalid shm size -1"},
		{name: "unknown cap", change: func(in *Input) { in.CapAdd = []string{"FOO"} }, wantErr: `unknown capability: "CAP_FOO"`},
	}
	for _, tc := range tests {
		in := base()
		tc.change(&in)
		s, err := Build(in)
		assert.Check(t, is.ErrorContains(err, tc.wantErr), tc.name)
		assert.Check(t, errdefs.IsInvalidArgument(err), tc.name)
		assert.Check(t, s == nil, tc.name)
	}
}

func TestBuildDoesNotAliasInput(t *testing.T) {
	t.Parallel()
	in := base()
	in.Mounts = []Mount{staged("/tmp", "1")}
	in.Sysctls = map[string]string{"a": "b"}
	s, err := Build(in)
	assert.NilError(t, err)
	s.Process.Args[0] = "changed"
	s.Process.Env[0] = "changed"
	s.Linux.Sysctl["a"] = "changed"
	m, _ := findMount(s, "/tmp")
	m.Options[0] = "changed"
	assert.Equal(t, in.Args[0], "sh")
	assert.Equal(t, in.Env[0][:5], "PATH=")
	assert.Equal(t, in.Sysctls["a"], "b")
	assert.Equal(t, in.Mounts[0].Options[0], "rbind")

	// Two builds do not share default slices either.
	s1, err := Build(base())
	assert.NilError(t, err)
	s1.Mounts[0].Options[0] = "changed"
	s1.Linux.MaskedPaths[0] = "changed"
	s2, err := Build(base())
	assert.NilError(t, err)
	assert.Equal(t, s2.Mounts[0].Options[0], "nosuid")
	assert.Equal(t, s2.Linux.MaskedPaths[0], "/proc/acpi")
}

func TestSortMounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{name: "empty", in: nil, want: nil},
		{name: "parents first", in: []string{"/a/b/c", "/a/b", "/a"}, want: []string{"/a", "/a/b", "/a/b/c"}},
		{name: "stable among equal depth", in: []string{"/z", "/a/x", "/a", "/b/y", "/m"},
			want: []string{"/z", "/a", "/m", "/a/x", "/b/y"}},
		{name: "trailing slash and dots count as clean", in: []string{"/run/test", "/run/", "/tmp/./x/.."},
			want: []string{"/run/", "/tmp/./x/..", "/run/test"}},
		{name: "already sorted", in: []string{"/etc", "/etc/hosts", "/etc/hosts/x"}, want: []string{"/etc", "/etc/hosts", "/etc/hosts/x"}},
	}
	for _, tc := range tests {
		var ms []specs.Mount
		for _, d := range tc.in {
			ms = append(ms, specs.Mount{Destination: d})
		}
		SortMounts(ms)
		var got []string
		for _, m := range ms {
			got = append(got, m.Destination)
		}
		assert.Check(t, is.DeepEqual(got, tc.want), tc.name)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	defaults := DefaultCapabilities()
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
		wantErr    string
	}{
		{name: "defaults", want: defaults},
		{name: "privileged", privileged: true, drop: []string{"ALL"}, want: allCapabilities},
		{name: "add with and without prefix, any case", add: []string{"net_admin", "CAP_SYS_ADMIN", "Sys_Ptrace"},
			want: append(DefaultCapabilities(), "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE")},
		{name: "add a default twice is a no-op", add: []string{"chown", "CAP_CHOWN"}, want: defaults},
		{name: "drop", drop: []string{"mknod", "CAP_NET_RAW", "cap_kill"},
			want: []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID",
				"CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"}},
		{name: "drop a cap that is not there", drop: []string{"SYS_ADMIN"}, want: defaults},
		{name: "drop ALL then add", drop: []string{"ALL"}, add: []string{"chown", "setuid"},
			want: []string{"CAP_CHOWN", "CAP_SETUID"}},
		{name: "drop all, lower case", drop: []string{"all"}, want: []string{}},
		{name: "add ALL minus drops", add: []string{"ALL"}, drop: []string{"SYS_ADMIN", "NET_ADMIN"},
			want: without(allCapabilities, "CAP_SYS_ADMIN", "CAP_NET_ADMIN")},
		{name: "add ALL wins over drop ALL", add: []string{"ALL"}, drop: []string{"ALL"}, want: allCapabilities},
		{name: "add and drop the same cap: add wins", add: []string{"NET_ADMIN"}, drop: []string{"NET_ADMIN"},
			want: append(DefaultCapabilities(), "CAP_NET_ADMIN")},
		{name: "unknown add", add: []string{"FOO"}, wantErr: `unknown capability: "CAP_FOO"`},
		{name: "unknown drop", drop: []string{"CAP_BAR"}, wantErr: `unknown capability: "CAP_BAR"`},
		{name: "empty name", add: []string{""}, wantErr: `unknown capability: "CAP_"`},
	}
	for _, tc := range tests {
		got, err := Capabilities(tc.add, tc.drop, tc.privileged)
		if tc.wantErr != "" {
			assert.Check(t, is.ErrorContains(err, tc.wantErr), tc.name)
			assert.Check(t, errdefs.IsInvalidArgument(err), tc.name)
			continue
		}
		assert.NilError(t, err, tc.name)
		assert.Check(t, is.DeepEqual(got, tc.want), tc.name)
	}
	assert.Check(t, is.Len(defaults, 14))
	assert.Check(t, is.Len(allCapabilities, 41))
}

func without(list []string, drop ...string) []string {
	var out []string
	for _, c := range list {
		keep := true
		for _, d := range drop {
			keep = keep && c != d
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}

func TestCapabilitiesForNonRoot(t *testing.T) {
	t.Parallel()
	in := base()
	in.UID = 1000
	in.CapAdd = []string{"NET_ADMIN"}
	s, err := Build(in)
	assert.NilError(t, err)
	c := s.Process.Capabilities
	assert.DeepEqual(t, c.Bounding, append(DefaultCapabilities(), "CAP_NET_ADMIN"))
	assert.Check(t, is.Len(c.Effective, 0))
	assert.Check(t, is.Len(c.Permitted, 0))
	assert.Check(t, is.Len(c.Inheritable, 0))
	assert.Check(t, is.Len(c.Ambient, 0))

	in.UID = 0
	s, err = Build(in)
	assert.NilError(t, err)
	assert.DeepEqual(t, s.Process.Capabilities.Effective, s.Process.Capabilities.Bounding)
	assert.DeepEqual(t, s.Process.Capabilities.Permitted, s.Process.Capabilities.Bounding)
}

func TestHostCapabilities(t *testing.T) {
	t.Parallel()
	host := without(allCapabilities, "CAP_SYS_RESOURCE", "CAP_MKNOD")
	tests := []struct {
		name       string
		add        []string
		privileged bool
		want       []string
	}{
		{name: "privileged is limited", privileged: true, want: host},
		{name: "ALL is limited", add: []string{"ALL"}, want: host},
		{name: "defaults are limited", want: without(DefaultCapabilities(), "CAP_MKNOD")},
		{name: "explicit add is kept", add: []string{"sys_resource"},
			want: append(without(DefaultCapabilities(), "CAP_MKNOD"), "CAP_SYS_RESOURCE")},
	}
	for _, tc := range tests {
		in := base()
		in.HostCapabilities = host
		in.CapAdd, in.Privileged = tc.add, tc.privileged
		s, err := Build(in)
		assert.NilError(t, err, tc.name)
		assert.Check(t, is.DeepEqual(s.Process.Capabilities.Bounding, tc.want), tc.name)
		assert.Check(t, is.DeepEqual(s.Process.Capabilities.Effective, tc.want), tc.name)
	}
}

func TestPrivileged(t *testing.T) {
	t.Parallel()
	in := base()
	in.Privileged, in.ReadonlyRootfs = true, true
	s, err := Build(in)
	assert.NilError(t, err)
	sys, _ := findMount(s, "/sys")
	cg, _ := findMount(s, "/sys/fs/cgroup")
	assert.DeepEqual(t, sys.Options, []string{"nosuid", "noexec", "nodev"})
	assert.DeepEqual(t, cg.Options, []string{"nosuid", "noexec", "nodev"})
	assert.Check(t, is.Len(s.Linux.MaskedPaths, 0))
	assert.Check(t, is.Len(s.Linux.ReadonlyPaths, 0))
	assert.DeepEqual(t, s.Linux.Resources.Devices, []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}})
	assert.Check(t, s.Root.Readonly)

	// Not privileged: the defaults' read-only /sys survives a writable root.
	s, err = Build(base())
	assert.NilError(t, err)
	sys, _ = findMount(s, "/sys")
	assert.Check(t, is.Contains(sys.Options, "ro"))
	assert.Check(t, is.Len(s.Linux.MaskedPaths, len(maskedPaths)))
}

func TestCapabilitiesFromMask(t *testing.T) {
	t.Parallel()
	got := CapabilitiesFromMask(1<<0 | 1<<21)
	if len(got) != 2 || got[0] != "CAP_CHOWN" || got[1] != "CAP_SYS_ADMIN" {
		t.Fatalf("CapabilitiesFromMask = %v", got)
	}
}
