package daemon

import (
	"os"

	"golang.org/x/sys/unix"
)

// testCrashPoint is for tests only: the crash tests (integration/
// hostile_crash_test.go) set BERTH_TEST_CRASH_POINT to make berthd kill
// itself with SIGKILL at one named point of a use case, the exact windows
// where a crash must leave nothing unaccounted for. Unset, as in
// production, crashPoint does nothing.
var testCrashPoint = os.Getenv("BERTH_TEST_CRASH_POINT")

// crashPoint kills the daemon, as `kill -9` would, if the test hook names
// point. The points:
//   - after-spawn: in a start, the shim runs and the runtime created the
//     container, the daemon has not asked for the start;
//   - after-start: the shim started the container, its running state is
//     not on disk yet;
//   - before-autoremove: a --rm container's exit is handled in memory
//     (waiters woken, die event sent), its removal not begun;
//   - after-rename: in a removal, the container's directory was renamed
//     away and is not deleted yet.
func (d *Daemon) crashPoint(point string) {
	if testCrashPoint == "" || testCrashPoint != point {
		return
	}
	d.log.Warn("test crash point reached: killing the daemon", "point", point)
	_ = unix.Kill(os.Getpid(), unix.SIGKILL)
	select {} // SIGKILL is not caught: nothing runs after it
}
