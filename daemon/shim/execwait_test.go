package shim

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestRuntimeInit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		comm, target string
		want         bool
	}{
		{"runc:[2:INIT]", "/", true},
		{"runc:[2:INIT]", "/bin/busybox", true}, // exec in progress
		{"sleep", "/", true},
		{"runc", "/usr/sbin/runc", true},
		{"runc", "/memfd:runc_cloned:/proc/self/exe (deleted)", true},
		{"crun", "/usr/bin/crun", false}, // not the runtime in use here
		{"sleep", "/bin/busybox", false},
		{"runc-other", "/usr/sbin/runc-other", false},
		{"app", "/memfd:app (deleted)", false},
	} {
		assert.Check(t, runtimeInit(tc.comm, tc.target, "/usr/sbin/runc") == tc.want, "%s %s", tc.comm, tc.target)
	}
	assert.Check(t, runtimeInit("crun", "/usr/bin/crun", "/usr/bin/crun"))
}
