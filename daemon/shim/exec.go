package shim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ExecOptions selects the streams of an exec session.
type ExecOptions struct {
	Stdin, Stdout, Stderr bool
	// Detach starts the process with its output discarded and returns at
	// once.
	Detach bool
}

// ExecState is what the shim reports about one exec process.
type ExecState struct {
	Pid     int  `json:"pid"`
	Running bool `json:"running"`
	// ExitCode is set once the process has ended.
	ExitCode *int `json:"exitCode,omitempty"`
}

// execProc is one process the shim started with the runtime's exec. The
// process is a child of the shim (a subreaper) once the runtime has exited.
type execProc struct {
	id   string
	tty  bool
	done chan struct{} // closed once the exit code is known

	mu       sync.Mutex // guards the fields below
	pid      int
	console  *os.File
	exitCode int
}

func (p *execProc) state() ExecState {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := ExecState{Pid: p.pid}
	select {
	case <-p.done:
		code := p.exitCode
		st.ExitCode = &code
	default:
		st.Running = p.pid != 0
	}
	return st
}

// validExecID keeps exec ids usable as file names.
var validExecID = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

func (s *supervisor) execRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /exec/{eid}", s.handleExec)
	mux.HandleFunc("GET /exec/{eid}", func(w http.ResponseWriter, r *http.Request) {
		p := s.execOf(r.PathValue("eid"))
		if p == nil {
			httpError(w, fmt.Errorf("no such exec: %s", r.PathValue("eid")))
			return
		}
		writeJSON(w, p.state())
	})
	mux.HandleFunc("GET /exec/{eid}/wait", func(w http.ResponseWriter, r *http.Request) {
		p := s.execOf(r.PathValue("eid"))
		if p == nil {
			httpError(w, fmt.Errorf("no such exec: %s", r.PathValue("eid")))
			return
		}
		select {
		case <-p.done:
		case <-r.Context().Done():
			return
		}
		writeJSON(w, p.state())
		// The daemon keeps the exit code from here on: forget the process,
		// so that frequent execs (health checks) do not pile up.
		s.execMu.Lock()
		delete(s.execs, p.id)
		s.execMu.Unlock()
	})
	mux.HandleFunc("POST /exec/{eid}/resize", func(w http.ResponseWriter, r *http.Request) {
		p := s.execOf(r.PathValue("eid"))
		if p == nil {
			httpError(w, fmt.Errorf("no such exec: %s", r.PathValue("eid")))
			return
		}
		p.mu.Lock()
		console := p.console
		p.mu.Unlock()
		if console == nil {
			httpError(w, errors.New("exec process has no terminal"))
			return
		}
		if err := resizeConsole(console, r.URL.Query()); err != nil {
			httpError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func resizeConsole(console *os.File, q url.Values) error {
	h, _ := strconv.Atoi(q.Get("h"))
	wd, _ := strconv.Atoi(q.Get("w"))
	return unix.IoctlSetWinsize(int(console.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(h), Col: uint16(wd)})
}

func (s *supervisor) execOf(id string) *execProc {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	return s.execs[id]
}

// handleExec starts a process in the container with the runtime's exec and,
// unless detached, hijacks the connection: the process's output flows to it
// (framed unless the process has a terminal) and, with stdin=1, input flows
// from it. The connection closes once the output has ended and the process
// has exited. A failed start is a plain HTTP error.
func (s *supervisor) handleExec(w http.ResponseWriter, r *http.Request) {
	eid := r.PathValue("eid")
	q := r.URL.Query()
	if !validExecID.MatchString(eid) {
		httpError(w, fmt.Errorf("invalid exec id %q", eid))
		return
	}
	var proc specs.Process
	if err := json.NewDecoder(r.Body).Decode(&proc); err != nil {
		httpError(w, fmt.Errorf("decode exec process: %w", err))
		return
	}
	p := &execProc{id: eid, tty: proc.Terminal, done: make(chan struct{})}
	s.execMu.Lock()
	if s.execs == nil {
		s.execs = map[string]*execProc{}
	}
	if _, dup := s.execs[eid]; dup {
		s.execMu.Unlock()
		httpError(w, fmt.Errorf("exec %s already exists", eid))
		return
	}
	s.execs[eid] = p
	s.execMu.Unlock()

	wantStdin := q.Get("stdin") == "1"
	xio, err := s.startExec(p, &proc, wantStdin)
	if err != nil {
		code := exitCodeForStartError(err.Error())
		p.mu.Lock()
		p.exitCode = code
		p.mu.Unlock()
		close(p.done)
		httpError(w, err)
		return
	}
	go func() {
		// Reap the process; its exit code is known once its output ended
		// too, so that a client reading the stream sees all of it first.
		code := waitPid(p.pid)
		xio.outputs.Wait()
		p.mu.Lock()
		p.exitCode = code
		if p.console != nil {
			p.console.Close()
		}
		p.mu.Unlock()
		close(p.done)
	}()

	if q.Get("detach") == "1" {
		xio.discard()
		if xio.stdin != nil {
			xio.stdin.Close()
		}
		writeJSON(w, p.state())
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		httpError(w, errors.New("cannot hijack"))
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"))
	sub := &subscriber{conn: conn, stdout: q.Get("stdout") == "1", stderr: q.Get("stderr") == "1", raw: p.tty}
	xio.connect(sub)
	if xio.stdin != nil {
		if wantStdin {
			go func() {
				_, err := io.Copy(xio.stdin, readerOf(conn, buf))
				if err == nil && !p.tty {
					// The client closed its input: so does the process's.
					xio.stdin.Close()
				}
			}()
		} else if !p.tty {
			xio.stdin.Close()
		}
	}
	<-p.done
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// readerOf is the client's input: what the server already buffered, then
// the connection.
func readerOf(conn net.Conn, buf *bufio.ReadWriter) io.Reader {
	if n := buf.Reader.Buffered(); n > 0 {
		return io.MultiReader(io.LimitReader(buf.Reader, int64(n)), conn)
	}
	return conn
}

// execIO is the stdio of an exec process, held by the shim.
type execIO struct {
	stdin   io.WriteCloser
	outputs sync.WaitGroup

	mu    sync.Mutex // guards sub, ready
	sub   *subscriber
	ready chan struct{} // closed once a destination for the output is known
}

func (x *execIO) connect(sub *subscriber) {
	x.mu.Lock()
	x.sub = sub
	x.mu.Unlock()
	close(x.ready)
}

func (x *execIO) discard() { close(x.ready) }

// pump copies one output stream of the process to the session, if any.
func (x *execIO) pump(r *os.File, stream byte) {
	defer x.outputs.Done()
	defer r.Close()
	<-x.ready
	x.mu.Lock()
	sub := x.sub
	x.mu.Unlock()
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 && sub != nil && ((stream == streamStdout && sub.stdout) || (stream == streamStderr && sub.stderr)) {
			if werr := sub.write(stream, buf[:n]); werr != nil {
				sub = nil // keep draining so the process never blocks
			}
		}
		if err != nil {
			return
		}
	}
}

// startExec runs the runtime's exec, detached, so that the process becomes
// the shim's child, and starts pumping its output.
func (s *supervisor) startExec(p *execProc, proc *specs.Process, stdin bool) (*execIO, error) {
	dir := filepath.Join(s.dir, "exec")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	procFile := filepath.Join(dir, p.id+".json")
	pidFile := filepath.Join(dir, p.id+".pid")
	data, err := json.Marshal(proc)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(procFile, data, 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(procFile)
	defer os.Remove(pidFile)

	x := &execIO{ready: make(chan struct{})}
	args := []string{"exec", "--detach", "--process", procFile, "--pid-file", pidFile}
	cmd := s.runtimeCmd()
	var errBuf strings.Builder
	var consoleCh chan consoleResult
	var childFiles, parentFiles []*os.File
	var outR, errR *os.File
	closeParents := func() {
		for _, f := range parentFiles {
			f.Close()
		}
	}
	if proc.Terminal {
		cl, sock, cleanup, err := listenConsole(filepath.Join(dir, p.id+".sock"))
		if err != nil {
			return nil, err
		}
		defer cleanup()
		consoleCh = make(chan consoleResult, 1)
		go func() { consoleCh <- receiveConsole(cl) }()
		args = append(args, "--console-socket", sock)
		cmd.Stderr = &errBuf
	} else {
		fds := make([]*os.File, 6) // stdin r/w, stdout r/w, stderr r/w
		for i := 0; i < 6; i += 2 {
			if i == 0 && !stdin {
				continue
			}
			r, w, err := os.Pipe()
			if err != nil {
				for _, f := range fds {
					if f != nil {
						f.Close()
					}
				}
				return nil, err
			}
			fds[i], fds[i+1] = r, w
		}
		if stdin {
			cmd.Stdin = fds[0]
			x.stdin = fds[1]
			childFiles = append(childFiles, fds[0])
			parentFiles = append(parentFiles, fds[1])
		}
		outR, errR = fds[2], fds[4]
		cmd.Stdout, cmd.Stderr = fds[3], fds[5]
		childFiles = append(childFiles, fds[3], fds[5])
		parentFiles = append(parentFiles, outR, errR)
	}
	cmd.Args = append(cmd.Args, append(args, s.cfg.ID)...)
	err = cmd.Run()
	for _, f := range childFiles {
		f.Close()
	}
	if err != nil {
		closeParents()
		// Without a terminal the runtime's stderr is the process's: the
		// message is in the runtime's log.
		return nil, s.runtimeError("exec", err, []byte(errBuf.String()))
	}
	raw, rerr := os.ReadFile(pidFile)
	pid, aerr := strconv.Atoi(strings.TrimSpace(string(raw)))
	if rerr != nil || aerr != nil {
		closeParents()
		return nil, fmt.Errorf("read exec pid file: %v %v", rerr, aerr)
	}
	p.mu.Lock()
	p.pid = pid
	p.mu.Unlock()
	if !proc.Terminal {
		x.outputs.Add(2)
		go x.pump(outR, streamStdout)
		go x.pump(errR, streamStderr)
		return x, nil
	}
	select {
	case res := <-consoleCh:
		if res.err != nil {
			return nil, fmt.Errorf("receive exec console: %w", res.err)
		}
		dup, err := dupFile(res.f)
		if err != nil {
			res.f.Close()
			return nil, err
		}
		p.mu.Lock()
		p.console = res.f
		p.mu.Unlock()
		x.stdin = nopCloser{res.f}
		x.outputs.Add(1)
		go x.pump(dup, streamStdout)
		return x, nil
	case <-time.After(10 * time.Second):
		return nil, errors.New("runtime did not send the exec console")
	}
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

// dupFile duplicates f so that the pump can close its copy independently of
// the console kept for resizing and input.
func dupFile(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

type nopCloser struct{ w *os.File }

func (n nopCloser) Write(p []byte) (int, error) { return n.w.Write(p) }
func (n nopCloser) Close() error                { return nil }

// waitPid reaps a child of the shim and returns its exit code.
func waitPid(pid int) int {
	ws, _ := waitChild(pid)
	return exitCode(ws)
}

// exitCodeForStartError gives a process that could not start the code a
// shell (and Docker) reports: 127 when the command is missing, 126 when it
// cannot be executed.
func exitCodeForStartError(msg string) int {
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"):
		return 126
	}
	return 126
}
