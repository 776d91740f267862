package shim

import (
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// reapStrays reaps, on every SIGCHLD, the shim's children that have died
// and that nothing else waits for: neither the container's process nor
// an exec (waitChild), nor a runtime command (os/exec, runCmd). As the
// shim is a subreaper, orphans become its children:
//   - the process crun's exec leaves in the container when it could not
//     start the command (a missing one): unreaped, it keeps the
//     container's init, once killed, waiting in the kernel for ever, so
//     the container never exits;
//   - the intermediate process crun's run and exec --detach fork the
//     container's process from, which exits a moment after crun: it
//     would stay a zombie for the container's life.
//
// It runs for the life of the shim, from one first pass: orphans that
// died before it began sent their SIGCHLD before it listened.
func (s *supervisor) reapStrays() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGCHLD)
	ch <- unix.SIGCHLD
	go s.reapStraysOn(ch)
}

func (s *supervisor) reapStraysOn(ch <-chan os.Signal) {
	for range ch {
		// An exec or a runtime command being started has a pid the
		// shim does not know yet.
		s.startMu.Lock()
		s.cmdMu.Lock()
		known := s.knownPids()
		for _, pid := range zombieChildren() {
			if known[pid] || s.cmds[pid] {
				continue
			}
			var ws unix.WaitStatus
			if _, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err == nil {
				s.log.Debug("reaped an orphan", "pid", pid)
			}
		}
		s.cmdMu.Unlock()
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
