package shim

import (
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// reapStrays reaps, on every SIGCHLD, the shim's children that died in
// another pid namespace (the container's) and that it waits for neither
// as the container's process nor as an exec: the process crun's exec
// leaves behind when it could not start the command (a missing one). As
// the shim is a subreaper, such a process becomes its child, and until
// it is reaped the container's init, once killed, waits for it in the
// kernel for ever: the container never exits. Children in the shim's own
// namespace (the runtime's commands, which os/exec waits for) are never
// touched. It runs for the life of the shim.
func (s *supervisor) reapStrays() {
	self, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		s.log.Warn("stray reaper", "err", err)
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGCHLD)
	go s.reapStraysOn(ch, self)
}

func (s *supervisor) reapStraysOn(ch <-chan os.Signal, self string) {
	for range ch {
		// An exec being started has a pid the shim does not know yet.
		s.startMu.Lock()
		known := s.knownPids()
		for _, pid := range zombieChildren() {
			if known[pid] {
				continue
			}
			if ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid"); err != nil || ns == self {
				continue
			}
			var ws unix.WaitStatus
			if _, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err == nil {
				s.log.Debug("reaped a stray process of the container", "pid", pid)
			}
		}
		s.startMu.Unlock()
	}
}

// knownPids are the processes the shim waits for itself.
func (s *supervisor) knownPids() map[int]bool {
	known := map[int]bool{s.pid: true}
	s.execMu.Lock()
	defer s.execMu.Unlock()
	for _, p := range s.execs {
		p.mu.Lock()
		known[p.pid] = true
		p.mu.Unlock()
	}
	return known
}

// zombieChildren are this process's children that have died and wait to
// be reaped.
func zombieChildren() []int {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(field)
			if err == nil && isZombie(pid) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// isZombie reports whether process pid has died and waits to be reaped.
func isZombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command, which is in parentheses and may
	// hold any character.
	i := strings.LastIndexByte(string(data), ')')
	return i >= 0 && i+2 < len(data) && data[i+2] == 'Z'
}
