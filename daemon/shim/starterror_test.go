package shim

import (
	"errors"
	"testing"

	"gotest.tools/v3/assert"
)

// TestStartMessage: crun's messages for a command that cannot start read
// as runc's (the messages runc logged for the same processes), so that
// Docker's clients and the exit codes tell the cases apart on either
// runtime; other messages pass unchanged.
func TestStartMessage(t *testing.T) {
	t.Parallel()
	cases := []struct{ crun, arg0, want string }{
		{"executable file `nosuchcmd` not found in $PATH: No such file or directory", "nosuchcmd",
			`exec: "nosuchcmd": executable file not found in $PATH`},
		{"executable file `/bin/nosuch/x` not found in $PATH: No such file or directory", "/bin/nosuch/x",
			`exec: "/bin/nosuch/x": stat /bin/nosuch/x: no such file or directory`},
		{"open executable: Permission denied", "/etc/passwd", `exec: "/etc/passwd": permission denied`},
		{"open executable: Operation not permitted", "/adir", `exec: "/adir": permission denied`},
		{`runc run failed: unable to start container process: exec: "x": executable file not found in $PATH`, "x",
			`runc run failed: unable to start container process: exec: "x": executable file not found in $PATH`},
		{"mount `/x` to `/y`: No such file or directory", "sh", "mount `/x` to `/y`: No such file or directory"},
	}
	for _, c := range cases {
		got := startMessage(c.crun, func() string { return c.arg0 })
		assert.Equal(t, got, c.want)
		if c.want != c.crun {
			code := StartErrorExitCode(errors.New(got), ExitContainerStartFailed)
			assert.Assert(t, code == 126 || code == 127, "%s: exit %d", got, code)
		}
	}
}
