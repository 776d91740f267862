package oci

import (
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
)

// allowed reports whether the filter has a rule that allows name
// unconditionally (without argument conditions).
func allowed(p *specs.LinuxSeccomp, name string) bool {
	for _, sc := range p.Syscalls {
		if sc.Action == specs.ActAllow && len(sc.Args) == 0 && slices.Contains(sc.Names, name) {
			return true
		}
	}
	return false
}

// TestSeccompDefaultGolden pins the rules of Docker's default profile for
// a default container, so an upgrade of the profile module shows up in
// review. The rules depend on the architecture (and, for one rule, on a
// host kernel of at least 4.8).
func TestSeccompDefaultGolden(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH != "amd64" {
		t.Fatalf("the golden file is for amd64, not %s", runtime.GOARCH)
	}
	s, err := Build(base())
	assert.NilError(t, err)
	out, err := json.MarshalIndent(s.Linux.Seccomp, "", "  ")
	assert.NilError(t, err)
	golden.Assert(t, string(out)+"\n", "seccomp-default.golden")
}

func TestSeccomp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Input)
		// nil: no filter at all
		check   func(t *testing.T, p *specs.LinuxSeccomp)
		wantErr string
	}{
		{name: "default confines namespaces and mounts", change: func(*Input) {},
			check: func(t *testing.T, p *specs.LinuxSeccomp) {
				assert.Check(t, is.Equal(p.DefaultAction, specs.ActErrno))
				assert.Check(t, allowed(p, "read") && allowed(p, "mkdir"))
				for _, name := range []string{"mount", "umount2", "unshare", "setns", "pivot_root", "bpf", "kexec_load", "init_module", "kcmp"} {
					assert.Check(t, !allowed(p, name), "%s allowed by default", name)
				}
			}},
		{name: "CAP_SYS_ADMIN enables mount and unshare", change: func(in *Input) { in.CapAdd = []string{"SYS_ADMIN"} },
			check: func(t *testing.T, p *specs.LinuxSeccomp) {
				for _, name := range []string{"mount", "umount2", "unshare", "setns"} {
					assert.Check(t, allowed(p, name), "%s not allowed with CAP_SYS_ADMIN", name)
				}
			}},
		{name: "CAP_SYS_PTRACE enables kcmp", change: func(in *Input) { in.CapAdd = []string{"sys_ptrace"} },
			check: func(t *testing.T, p *specs.LinuxSeccomp) {
				assert.Check(t, allowed(p, "kcmp") && allowed(p, "process_vm_readv"))
			}},
		{name: "a non-root user is filtered by its bounding set", change: func(in *Input) {
			in.UID, in.CapAdd = 1000, []string{"SYS_ADMIN"}
		},
			check: func(t *testing.T, p *specs.LinuxSeccomp) { assert.Check(t, allowed(p, "mount")) }},
		{name: "unconfined", change: func(in *Input) { in.Seccomp.Unconfined = true }},
		{name: "privileged has no filter", change: func(in *Input) { in.Privileged = true }},
		{name: "privileged ignores a custom profile", change: func(in *Input) {
			in.Privileged, in.Seccomp.Profile = true, `{"defaultAction":"SCMP_ACT_ERRNO"}`
		}},
		{name: "custom profile", change: func(in *Input) {
			in.Seccomp.Profile = `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"},` +
				`{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}}]}`
		},
			check: func(t *testing.T, p *specs.LinuxSeccomp) {
				assert.Check(t, is.Equal(p.DefaultAction, specs.ActAllow))
				assert.Check(t, is.DeepEqual(p.Syscalls, []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}))
			}},
		{name: "empty custom profile means no filter, as Docker", change: func(in *Input) { in.Seccomp.Profile = `{}` }},
		{name: "bad JSON", change: func(in *Input) { in.Seccomp.Profile = `{"defaultAction":` },
			wantErr: "invalid seccomp profile: Decoding seccomp profile failed"},
		{name: "name and names", change: func(in *Input) {
			in.Seccomp.Profile = `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}]}`
		}, wantErr: "both 'name' and 'names'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := base()
			tc.change(&in)
			s, err := Build(in)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				assert.Check(t, errors.Is(err, errdefs.ErrInvalidArgument))
				return
			}
			assert.NilError(t, err)
			if tc.check == nil {
				assert.Check(t, s.Linux.Seccomp == nil, "want no filter, got %+v", s.Linux.Seccomp)
				return
			}
			assert.Assert(t, s.Linux.Seccomp != nil)
			tc.check(t, s.Linux.Seccomp)
		})
	}
}

func TestSeccompNeedsCapabilities(t *testing.T) {
	t.Parallel()
	s := defaultSpec()
	err := WithSeccomp(Seccomp{}, false)(s)
	assert.Check(t, errors.Is(err, errdefs.ErrInternal), "%v", err)
}

func TestSystemPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		masked, readonly []string
		privileged       bool
		wantMasked       []string
		wantReadonly     []string
		wantErr          string
	}{
		{name: "defaults", wantMasked: DefaultMaskedPaths(), wantReadonly: DefaultReadonlyPaths()},
		{name: "unconfined", masked: []string{}, readonly: []string{}},
		{name: "own lists", masked: []string{"/proc/kcore"}, readonly: []string{"/proc/sys", "/sys/kernel"},
			wantMasked: []string{"/proc/kcore"}, wantReadonly: []string{"/proc/sys", "/sys/kernel"}},
		{name: "only masked given", masked: []string{}, wantReadonly: DefaultReadonlyPaths()},
		{name: "privileged has none", masked: []string{"/proc/kcore"}, privileged: true},
		{name: "relative", masked: []string{"proc/kcore"}, wantErr: `masked or read-only path "proc/kcore" is not an absolute path`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := base()
			in.MaskedPaths, in.ReadonlyPaths, in.Privileged = tc.masked, tc.readonly, tc.privileged
			s, err := Build(in)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				assert.Check(t, errors.Is(err, errdefs.ErrInvalidArgument))
				return
			}
			assert.NilError(t, err)
			// nil and empty both mean none (omitted from config.json)
			if len(s.Linux.MaskedPaths) == 0 {
				s.Linux.MaskedPaths = nil
			}
			if len(s.Linux.ReadonlyPaths) == 0 {
				s.Linux.ReadonlyPaths = nil
			}
			assert.Check(t, is.DeepEqual(s.Linux.MaskedPaths, tc.wantMasked))
			assert.Check(t, is.DeepEqual(s.Linux.ReadonlyPaths, tc.wantReadonly))
		})
	}
	// Docker's lists, including /proc/kcore and /proc/sys.
	assert.Check(t, slices.Contains(DefaultMaskedPaths(), "/proc/kcore"))
	assert.Check(t, slices.Contains(DefaultReadonlyPaths(), "/proc/sys"))
}

func TestPrivilegedDevices(t *testing.T) {
	t.Parallel()
	devs := []specs.LinuxDevice{{Path: "/dev/loop0", Type: "b", Major: 7, Minor: 0}}
	in := base()
	in.HostDevices = devs
	s, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, is.Len(s.Linux.Devices, 0), "only a privileged container gets the host's devices")

	in.Privileged = true
	s, err = Build(in)
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(s.Linux.Devices, devs))
	assert.Check(t, is.DeepEqual(s.Linux.Resources.Devices, []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}))
}
