package shim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// validExecID keeps exec ids usable as file names: 1 to 128 of
// [a-zA-Z0-9_.-]. A loop, not a regexp: `{1,128}` compiles to 128 copies
// of the class, about 120 KB of heap in every shim for the life of its
// container.
func validExecID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// handleExecState reports the state of an exec process.
func (s *supervisor) handleExecState(w http.ResponseWriter, r *http.Request) {
	p, err := s.execOf(r.PathValue("eid"))
	if err != nil {
		httpError(w, err)
		return
	}
	writeJSON(w, p.state())
}

// handleExecWait answers once an exec process has ended, with its state.
func (s *supervisor) handleExecWait(w http.ResponseWriter, r *http.Request) {
	p, err := s.execOf(r.PathValue("eid"))
	if err != nil {
		httpError(w, err)
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
}

// handleExecResize sets the size of an exec process's terminal.
func (s *supervisor) handleExecResize(w http.ResponseWriter, r *http.Request) {
	p, err := s.execOf(r.PathValue("eid"))
	if err != nil {
		httpError(w, err)
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
}

func (s *supervisor) execOf(id string) (*execProc, error) {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	p := s.execs[id]
	if p == nil {
		return nil, fmt.Errorf("no such exec: %s", id)
	}
	return p, nil
}

// handleExec starts a process in the container with the runtime's exec and,
// unless detached, hijacks the connection: the process's output flows to it
// (framed unless the process has a terminal) and, with stdin=1, input flows
// from it. The connection closes once the output has ended and the process
// has exited. A failed start is a plain HTTP error.
func (s *supervisor) handleExec(w http.ResponseWriter, r *http.Request) {
	eid := r.PathValue("eid")
	q := r.URL.Query()
	if !validExecID(eid) {
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
	s.startMu.RLock()
	xio, err := s.startExec(p, &proc, wantStdin)
	s.startMu.RUnlock()
	if err != nil {
		code := StartErrorExitCode(err, ExitExecStartFailed)
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

	pid, pio, err := s.startProcess("exec", []string{"exec", "--detach", "--process", procFile}, stdioSpec{
		terminal:      proc.Terminal,
		consoleSocket: filepath.Join(dir, p.id+".sock"),
		stdin:         stdin,
		pidFile:       pidFile,
	}, func() string { return arg0(proc) })
	if err != nil {
		return nil, err
	}
	x := &execIO{ready: make(chan struct{})}
	if pio.console == nil {
		if pio.stdin != nil {
			x.stdin = pio.stdin
		}
		p.mu.Lock()
		p.pid = pid
		p.mu.Unlock()
		x.outputs.Add(2)
		go x.pump(pio.stdout, streamStdout)
		go x.pump(pio.stderr, streamStderr)
		return x, nil
	}
	// The pump closes its copy of the console when the output ends; the
	// process keeps the console for resizing and input until it is reaped.
	dup, err := dupFile(pio.console)
	if err != nil {
		killAndReap(pid)
		pio.close()
		return nil, err
	}
	p.mu.Lock()
	p.pid = pid
	p.console = pio.console
	p.mu.Unlock()
	x.stdin = nopCloser{pio.console}
	x.outputs.Add(1)
	go x.pump(dup, streamStdout)
	return x, nil
}

// waitPid reaps a child of the shim and returns its exit code.
func waitPid(pid int) int {
	ws, _ := waitChild(pid)
	return exitCode(ws)
}
