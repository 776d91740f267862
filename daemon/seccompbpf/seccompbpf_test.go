package seccompbpf

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestSkip(t *testing.T) {
	profile := func() *specs.Spec {
		return &specs.Spec{Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{
			DefaultAction: specs.ActErrno,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}},
		}}}
	}
	for _, tc := range []struct {
		name    string
		runtime string
		spec    func() *specs.Spec
		want    string
	}{
		{"crun with a profile", "/usr/bin/crun", profile, ""},
		{"runc", "/usr/sbin/runc", profile, "runtime is not crun"},
		{"a runtime path named like crun", "/opt/crun-wrapper", profile, "runtime is not crun"},
		{"no linux section", "crun", func() *specs.Spec { return &specs.Spec{} }, "no seccomp profile"},
		{"unconfined", "crun", func() *specs.Spec { return &specs.Spec{Linux: &specs.Linux{}} }, "no seccomp profile"},
		{"listener path", "crun", func() *specs.Spec {
			s := profile()
			s.Linux.Seccomp.ListenerPath = "/run/agent.sock"
			return s
		}, "seccomp listener"},
		{"notify default", "crun", func() *specs.Spec {
			s := profile()
			s.Linux.Seccomp.DefaultAction = specs.ActNotify
			return s
		}, "SCMP_ACT_NOTIFY"},
		{"notify rule", "crun", func() *specs.Spec {
			s := profile()
			s.Linux.Seccomp.Syscalls = append(s.Linux.Seccomp.Syscalls, specs.LinuxSyscall{Names: []string{"mount"}, Action: specs.ActNotify})
			return s
		}, "SCMP_ACT_NOTIFY"},
		{"user's own filter", "crun", func() *specs.Spec {
			s := profile()
			s.Annotations = map[string]string{Annotation: "AAAA"}
			return s
		}, "annotation run.oci.seccomp_bpf_data set by the user"},
		{"user's fail-unknown option", "crun", func() *specs.Spec {
			s := profile()
			s.Annotations = map[string]string{"run.oci.seccomp_fail_unknown_syscall": "1"}
			return s
		}, "annotation run.oci.seccomp_fail_unknown_syscall set by the user"},
		{"other annotations", "crun", func() *specs.Spec {
			s := profile()
			s.Annotations = map[string]string{"org.example": "x"}
			return s
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Check(t, is.Equal(Skip(tc.runtime, tc.spec()), tc.want))
		})
	}
}

func TestKey(t *testing.T) {
	base := Key([]byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`), "2.5.4", "amd64", "6.1.0")
	assert.Check(t, is.Len(base, 64))
	assert.Check(t, is.Equal(base, Key([]byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`), "2.5.4", "amd64", "6.1.0")))
	for _, other := range []string{
		Key([]byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), "2.5.4", "amd64", "6.1.0"),
		Key([]byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`), "2.5.5", "amd64", "6.1.0"),
		Key([]byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`), "2.5.4", "arm64", "6.1.0"),
		Key([]byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`), "2.5.4", "amd64", "6.2.0"),
		// no ambiguity between fields
		Key([]byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`), "2.5.4\x00amd64", "", "6.1.0"),
	} {
		assert.Check(t, base != other)
	}
}

func TestValidBPF(t *testing.T) {
	assert.Check(t, !validBPF(nil))
	assert.Check(t, !validBPF(make([]byte, 7)))
	assert.Check(t, validBPF(make([]byte, 8)))
	assert.Check(t, validBPF(make([]byte, 8*4096)))
	assert.Check(t, !validBPF(make([]byte, 8*4097)))
}

func TestWriteAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	file := filepath.Join(dir, "k.bpf")
	assert.NilError(t, writeAtomic(file, []byte("12345678")))
	assert.NilError(t, writeAtomic(file, []byte("abcdefgh")))
	data, err := os.ReadFile(file)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(data), "abcdefgh"))
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	assert.Check(t, is.Len(entries, 1), "temporary files left: %v", entries)
}

// Without its helper the compiler leaves specs alone (crun compiles),
// and says so once.
func TestApplyWithoutHelper(t *testing.T) {
	var logs strings.Builder
	c := &Compiler{Helper: filepath.Join(t.TempDir(), "berth-seccomp"), Dir: t.TempDir(), Log: slog.New(slog.NewTextHandler(&logs, nil))}
	for range 3 {
		s := &specs.Spec{Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}}}
		c.Apply(context.Background(), "/usr/bin/crun", s)
		assert.Check(t, is.Len(s.Annotations, 0))
	}
	assert.Check(t, is.Equal(strings.Count(logs.String(), "crun compiles seccomp profiles itself"), 1), logs.String())
}
