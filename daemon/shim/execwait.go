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
	exe := "/proc/" + strconv.Itoa(pid) + "/exe"
	deadline := time.Now().Add(5 * time.Second)
	for delay := 100 * time.Microsecond; time.Now().Before(deadline); delay = min(2*delay, 10*time.Millisecond) {
		target, err := os.Readlink(exe)
		if err != nil || !runtimeInit(target, rt) {
			return
		}
		time.Sleep(delay)
	}
}

// runtimeInit reports whether target, what /proc/PID/exe of a container's
// init points to, is still the runtime: its binary (crun), or the sealed
// copy runc re-executes itself from ("/memfd:runc_cloned:/proc/self/exe
// (deleted)"), or runc's bind-mounted clone in runc >= 1.2 ("runc" in a
// private directory).
func runtimeInit(target, runtime string) bool {
	target = strings.TrimSuffix(target, " (deleted)")
	switch {
	case target == runtime:
		return true
	case strings.HasPrefix(target, "/memfd:runc_cloned"), strings.HasPrefix(target, "/memfd:runc"):
		return true
	}
	return false
}
