package shim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// crunNotFound is crun's message for a command it found neither at the
// path given nor in $PATH.
var crunNotFound = regexp.MustCompile("^executable file `(.*)` not found in \\$PATH: No such file or directory$")

// startMessage puts a runtime's message for a process it could not start
// in runc's words, which are Docker's: its clients (and exit codes 127
// and 126) tell a missing command from one that cannot be executed by
// runc's phrases alone. arg0 gives the process's command, which crun's
// open errors do not name. Any other message is the runtime's own.
func startMessage(msg string, arg0 func() string) string {
	if m := crunNotFound.FindStringSubmatch(msg); m != nil {
		name := m[1]
		if strings.Contains(name, "/") {
			// A path: runc does not look it up in $PATH but stats it.
			return "exec: " + strconv.Quote(name) + ": stat " + name + ": no such file or directory"
		}
		return "exec: " + strconv.Quote(name) + ": executable file not found in $PATH"
	}
	switch msg {
	case "open executable: Permission denied",
		// crun's word for a directory, which execve (and runc) refuse
		// with EACCES.
		"open executable: Operation not permitted":
		return "exec: " + strconv.Quote(arg0()) + ": permission denied"
	}
	return msg
}

// bundleArg0 is the command of the container's process, from its bundle.
func (s *supervisor) bundleArg0() string {
	var spec specs.Spec
	data, err := os.ReadFile(filepath.Join(s.cfg.Bundle, "config.json"))
	if err != nil || json.Unmarshal(data, &spec) != nil {
		return ""
	}
	return arg0(spec.Process)
}

// arg0 is the command of proc, "" without one.
func arg0(proc *specs.Process) string {
	if proc == nil || len(proc.Args) == 0 {
		return ""
	}
	return proc.Args[0]
}
