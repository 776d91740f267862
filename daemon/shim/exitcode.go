package shim

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Exit codes of a process that could not start for a reason other than a
// missing or unexecutable command: Docker reports 128 for a container
// (its "unknown" exit) and 126 for an exec.
const (
	ExitContainerStartFailed = 128
	ExitExecStartFailed      = 126
)

// StartErrorExitCode gives a process that could not start the exit code a
// shell (and Docker) reports: 127 when the command is missing, 126 when it
// cannot be executed, and otherwise fallback (ExitContainerStartFailed or
// ExitExecStartFailed). The runtime only tells why in its message.
func StartErrorExitCode(err error, fallback int) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"):
		return 126
	}
	return fallback
}

// exitCode is the exit code of a process that ended with ws: its exit
// status, or 128 plus the signal that killed it.
func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
