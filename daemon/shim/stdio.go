package shim

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/pkg/runtrace"
)

// stdioSpec is the stdio the runtime gives a process it starts.
type stdioSpec struct {
	// terminal: a pty, whose master the runtime sends on a socket the
	// shim listens on at consoleSocket (or a shorter path, see
	// listenConsole). Without it, pipes.
	terminal      bool
	consoleSocket string
	// stdin: without a terminal, a pipe for the process's input (else it
	// reads /dev/null). With a terminal the pty is the input.
	stdin   bool
	pidFile string // where the runtime writes the process's pid
}

// processIO is the shim's end of the stdio of a process the runtime
// started: pipes, or the pty master.
type processIO struct {
	stdin          *os.File // input pipe, with stdin and without a terminal
	stdout, stderr *os.File // output pipes, without a terminal
	console        *os.File // pty master, with a terminal
}

func (p processIO) close() {
	for _, f := range []*os.File{p.stdin, p.stdout, p.stderr, p.console} {
		if f != nil {
			f.Close()
		}
	}
}

// startProcess runs the runtime command args (`run --detach` or
// `exec --detach` with their own flags), adding the stdio, pid-file and
// console-socket flags of std and the container's ID. It returns once the
// runtime has exited, with the pid of the process it started and the
// shim's end of its stdio. op names the command in errors; arg0 gives
// the process's command, for them (see startMessage).
func (s *supervisor) startProcess(op string, args []string, std stdioSpec, arg0 func() string) (int, processIO, error) {
	var pio processIO
	var childEnds []*os.File // the process's ends, closed once the runtime has them
	closeChildEnds := func() {
		for _, f := range childEnds {
			f.Close()
		}
		childEnds = nil
	}
	fail := func(err error) (int, processIO, error) {
		closeChildEnds()
		pio.close()
		return 0, processIO{}, err
	}

	cmd := s.runtimeCmd()
	var errBuf strings.Builder
	var consoleCh chan consoleResult
	args = append(args, "--pid-file", std.pidFile)
	if std.terminal {
		l, sock, cleanup, err := listenConsole(std.consoleSocket)
		if err != nil {
			return fail(err)
		}
		defer cleanup()
		consoleCh = make(chan consoleResult, 1)
		go func() { consoleCh <- receiveConsole(l) }()
		args = append(args, "--console-socket", sock)
		cmd.Stderr = &errBuf
	} else {
		if std.stdin {
			r, w, err := os.Pipe()
			if err != nil {
				return fail(err)
			}
			pio.stdin = w
			childEnds = append(childEnds, r)
			cmd.Stdin = r
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		pio.stdout = outR
		childEnds = append(childEnds, outW)
		errR, errW, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		pio.stderr = errR
		childEnds = append(childEnds, errW)
		// The runtime's stderr is the process's: a failing runtime's
		// message is in its log (see runtimeError).
		cmd.Stdout, cmd.Stderr = outW, errW
	}
	cmd.Args = append(cmd.Args, append(args, s.cfg.ID)...)
	runtrace.Mark("shim runtime-exec")
	err := s.runCmd(cmd)
	runtrace.Mark("shim runtime-exited")
	closeChildEnds()
	if err != nil {
		msg := startMessage(s.runtimeMessage(err, []byte(errBuf.String())), arg0)
		return fail(fmt.Errorf("OCI runtime %s failed: %s", op, msg))
	}
	pid, err := readPidFile(std.pidFile)
	if err != nil {
		return fail(err)
	}
	if std.terminal {
		select {
		case res := <-consoleCh:
			pio.console, err = res.f, res.err
			if err != nil {
				err = fmt.Errorf("receive console: %w", err)
			}
		case <-time.After(10 * time.Second):
			err = errors.New("runtime did not send the console")
		}
		if err != nil {
			// A process without its console cannot be served: end it
			// rather than leave it behind.
			killAndReap(pid)
			return fail(err)
		}
	}
	return pid, pio, nil
}

func readPidFile(path string) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return 0, fmt.Errorf("bad pid file %s: %w", path, err)
	}
	return pid, nil
}

// killAndReap ends a process the shim cannot serve.
func killAndReap(pid int) {
	_ = unix.Kill(pid, unix.SIGKILL)
	_, _ = waitChild(pid)
}

type consoleResult struct {
	f   *os.File
	err error
}

// receiveConsole accepts the runtime's connection on the console socket and
// takes the pty master it sends.
func receiveConsole(l net.Listener) consoleResult {
	conn, err := l.Accept()
	if err != nil {
		return consoleResult{err: err}
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil {
		return consoleResult{err: err}
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return consoleResult{err: fmt.Errorf("bad console message: %v", err)}
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return consoleResult{err: fmt.Errorf("bad console rights: %v", err)}
	}
	return consoleResult{f: os.NewFile(uintptr(fds[0]), "console")}
}

// maxSocketPath is the longest path a unix socket address can hold.
const maxSocketPath = 107

// listenConsole listens on a socket for the runtime's console: at path
// when it fits in a socket address, else in a fresh directory under the
// temporary directory (state directories of containers are deep).
func listenConsole(path string) (net.Listener, string, func(), error) {
	if len(path) <= maxSocketPath {
		l, err := listenUnix(path)
		if err != nil {
			return nil, "", nil, err
		}
		return l, path, func() { l.Close(); os.Remove(path) }, nil
	}
	dir, err := os.MkdirTemp("", "berth-console-")
	if err != nil {
		return nil, "", nil, err
	}
	path = filepath.Join(dir, "s")
	l, err := listenUnix(path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	return l, path, func() { l.Close(); os.RemoveAll(dir) }, nil
}

// listenUnix listens on a socket at path that only root can connect to.
func listenUnix(path string) (net.Listener, error) {
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// resizeConsole sets the size of a pty to the query's h(eight) and
// w(idth), as the daemon sends them.
func resizeConsole(console *os.File, q url.Values) error {
	h, _ := strconv.Atoi(q.Get("h"))
	wd, _ := strconv.Atoi(q.Get("w"))
	return unix.IoctlSetWinsize(int(console.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(h), Col: uint16(wd)})
}

// dupFile duplicates f so that a pump can close its copy independently of
// the console kept for resizing and input.
func dupFile(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// nopCloser writes to a console that its input's end must not close.
type nopCloser struct{ w *os.File }

func (n nopCloser) Write(p []byte) (int, error) { return n.w.Write(p) }
func (n nopCloser) Close() error                { return nil }
