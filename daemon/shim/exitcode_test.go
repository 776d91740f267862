package shim

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestStartErrorExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		msg      string
		fallback int
		want     int
	}{
		{`exec: "x": executable file not found in $PATH`, ExitContainerStartFailed, 127},
		{`exec: "x": executable file not found in $PATH`, ExitExecStartFailed, 127},
		{"stat /x: no such file or directory", ExitContainerStartFailed, 127},
		{"stat /x: no such file or directory", ExitExecStartFailed, 127},
		{"exec /etc: permission denied", ExitContainerStartFailed, 126},
		{"exec /etc: permission denied", ExitExecStartFailed, 126},
		{"something else", ExitContainerStartFailed, 128},
		{"something else", ExitExecStartFailed, 126},
	} {
		assert.Check(t, is.Equal(StartErrorExitCode(errors.New(tc.msg), tc.fallback), tc.want), "%q, fallback %d", tc.msg, tc.fallback)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ws   unix.WaitStatus
		want int
	}{
		{0, 0},
		{3 << 8, 3},
		{255 << 8, 255},
		{unix.WaitStatus(unix.SIGKILL), 137},
		{unix.WaitStatus(unix.SIGTERM), 143},
	} {
		assert.Check(t, is.Equal(exitCode(tc.ws), tc.want), "wait status %#x", uint32(tc.ws))
	}
}
