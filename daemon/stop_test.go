package daemon

import (
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
)

func TestParseSignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    syscall.Signal
		wantErr bool
	}{
		{"TERM", syscall.SIGTERM, false},
		{"SIGTERM", syscall.SIGTERM, false},
		{"sigkill", syscall.SIGKILL, false},
		{"hup", syscall.SIGHUP, false},
		{"15", syscall.SIGTERM, false},
		{"64", 64, false},
		{"RTMIN+3", 37, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"65", 0, true},
		{"NOPE", 0, true},
		{"", 0, true},
	} {
		got, err := parseSignal(tc.in)
		if tc.wantErr {
			assert.Check(t, errdefs.IsInvalidArgument(err), "%q: %v", tc.in, err)
			assert.ErrorContains(t, err, "invalid signal: "+tc.in)
			continue
		}
		assert.NilError(t, err, tc.in)
		assert.Equal(t, got, tc.want, tc.in)
	}
}
