package shim

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// awaitUserProcess returns once the container's init process pid runs the
// user's program rather than the runtime's init: the runtime's start
// returns when it has released its init, a moment before that init execs.
// A start that returned earlier would let `top` see `runc init`. The wait
// ends when the process is gone too, and is bounded: a runtime hook may
// hold the init back.
func awaitUserProcess(pid int, runtime string) {
	rt, err := filepath.EvalSymlinks(runtime)
	if err != nil {
		rt = runtime
	}
	proc := "/proc/" + strconv.Itoa(pid) + "/"
	deadline := time.Now().Add(5 * time.Second)
	for delay := 100 * time.Microsecond; time.Now().Before(deadline); delay = min(2*delay, 10*time.Millisecond) {
		comm, err := os.ReadFile(proc + "comm")
		if err != nil {
			return // gone
		}
		target, err := os.Readlink(proc + "exe")
		if err != nil || !runtimeInit(strings.TrimSpace(string(comm)), target, rt) {
			return
		}
		time.Sleep(delay)
	}
}

// runtimeInit reports whether a container's init process, by its
// /proc/PID/comm and the target of /proc/PID/exe, is still the runtime's:
// runc names it "runc:[2:INIT]" and runs it from a copy of itself that
// the container's root cannot reach (the link reads "/", or
// "/memfd:runc_cloned:..."); crun runs it from its own binary.
func runtimeInit(comm, target, runtime string) bool {
	target = strings.TrimSuffix(target, " (deleted)")
	switch {
	case strings.HasPrefix(comm, "runc:["):
		return true
	case target == runtime, target == "/":
		return true
	case strings.HasPrefix(target, "/memfd:runc"):
		return true
	}
	return false
}
