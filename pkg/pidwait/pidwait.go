// Package pidwait waits for a process to exit without an OS thread
// blocked in wait(2) meanwhile.
package pidwait

import (
	"os"

	"golang.org/x/sys/unix"
)

// Exited returns once process pid (not yet reaped) has exited: a pidfd
// becomes readable then, and Go's poller waits for that, so the caller's
// goroutine parks instead of its thread. That matters twice: berthd has
// one such wait per running container (a blocked thread costs about 50
// KiB), and a shim runs with one P, which a thread blocked in wait(2)
// would hold until the runtime's monitor takes it back (up to 10 ms and
// more), stalling the shim's requests meanwhile. The caller reaps the
// process after. Where pidfds are missing, or the process is already
// gone, it returns at once.
func Exited(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		return err != nil || n > 0
	})
}
