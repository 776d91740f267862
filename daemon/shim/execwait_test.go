package shim

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestRuntimeInit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		target string
		want   bool
	}{
		{"/usr/sbin/runc", true},
		{"/memfd:runc_cloned:/proc/self/exe (deleted)", true},
		{"/usr/bin/crun", false}, // not the runtime in use below
		{"/bin/busybox", false},
		{"/usr/sbin/runc-other", false},
		{"/memfd:app (deleted)", false},
	} {
		assert.Check(t, runtimeInit(tc.target, "/usr/sbin/runc") == tc.want, "%s", tc.target)
	}
	assert.Check(t, runtimeInit("/usr/bin/crun", "/usr/bin/crun"))
}
