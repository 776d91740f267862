package shim

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/pkg/runtrace"
)

// routes is the shim's API for the daemon (package shimclient).
func (s *supervisor) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /start", s.handleStart)
	mux.HandleFunc("POST /kill", s.handleKill)
	mux.HandleFunc("POST /pause", s.handlePause)
	mux.HandleFunc("POST /resume", s.handleResume)
	mux.HandleFunc("POST /update", s.handleUpdate)
	mux.HandleFunc("GET /state", s.handleState)
	mux.HandleFunc("GET /wait", s.handleWait)
	mux.HandleFunc("POST /resize", s.handleResize)
	mux.HandleFunc("POST /attach", s.handleAttach)
	mux.HandleFunc("POST /exec/{eid}", s.handleExec)
	mux.HandleFunc("GET /exec/{eid}", s.handleExecState)
	mux.HandleFunc("GET /exec/{eid}/wait", s.handleExecWait)
	mux.HandleFunc("POST /exec/{eid}/resize", s.handleExecResize)
	return mux
}

// handleStart starts the container: its process runs since the runtime
// created it, the start releases its output.
func (s *supervisor) handleStart(w http.ResponseWriter, r *http.Request) {
	runtrace.Mark("shim start-request")
	err := s.transition(opStart, func() error {
		s.releaseOutput()
		return nil
	})
	if err != nil {
		httpError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleKill sends signal (default KILL) to the container's process, or
// with all=1 to all its processes. A container that has exited, or exits
// meanwhile, has nothing to signal: that is no error.
func (s *supervisor) handleKill(w http.ResponseWriter, r *http.Request) {
	st, err := s.allowed(opKill)
	if err != nil {
		httpError(w, err)
		return
	}
	if st.status == StatusStopped {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	sig := r.URL.Query().Get("signal")
	if sig == "" {
		sig = "KILL"
	}
	var args []string
	if r.URL.Query().Get("all") == "1" {
		args = append(args, "--all")
	}
	if err := s.runRuntime("kill", append(args, s.cfg.ID, sig)...); err != nil {
		select {
		case <-s.exited:
		default:
			// The process may have gone between our check and the kill.
			if unix.Kill(s.pid, 0) == nil {
				httpError(w, err)
				return
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// handlePause freezes the container.
func (s *supervisor) handlePause(w http.ResponseWriter, r *http.Request) {
	s.handleRuntimeTransition(w, opPause)
}

// handleResume thaws the container.
func (s *supervisor) handleResume(w http.ResponseWriter, r *http.Request) {
	s.handleRuntimeTransition(w, opResume)
}

// handleUpdate changes the container's resource limits: the body is an
// OCI LinuxResources, which the runtime's update reads from a file. It
// changes no state: limits apply in every state the runtime accepts.
func (s *supervisor) handleUpdate(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		httpError(w, err)
		return
	}
	file := filepath.Join(s.dir, "resources.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		httpError(w, err)
		return
	}
	if err := s.runRuntime("update", "--resources", file, s.cfg.ID); err != nil {
		httpError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleRuntimeTransition applies op, which the runtime's command of the
// same name does.
func (s *supervisor) handleRuntimeTransition(w http.ResponseWriter, op operation) {
	err := s.transition(op, func() error { return s.runRuntime(string(op), s.cfg.ID) })
	if err != nil {
		httpError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// runRuntime runs a runtime command that prints nothing on success.
func (s *supervisor) runRuntime(op string, args ...string) error {
	var errBuf strings.Builder
	cmd := s.runtimeCmd(append([]string{op}, args...)...)
	cmd.Stderr = &errBuf
	if err := s.runCmd(cmd); err != nil {
		return s.runtimeError(op, err, []byte(errBuf.String()))
	}
	return nil
}

// handleState reports the container's state.
func (s *supervisor) handleState(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := State{Pid: s.pid, Status: s.state.status, Exit: s.exit}
	s.mu.Unlock()
	writeJSON(w, st)
}

// handleWait answers once the container has exited, with its exit.
func (s *supervisor) handleWait(w http.ResponseWriter, r *http.Request) {
	s.waiters.Add(1)
	defer s.waiters.Done()
	select {
	case <-s.exited:
	case <-r.Context().Done():
		return
	}
	s.mu.Lock()
	exit := s.exit
	s.mu.Unlock()
	writeJSON(w, exit)
	// Sent before the waiter counts as done (awaitWaiters), not when
	// the server finishes the request.
	http.NewResponseController(w).Flush()
}

// handleResize sets the size of the container's terminal.
func (s *supervisor) handleResize(w http.ResponseWriter, r *http.Request) {
	if s.console == nil {
		httpError(w, errors.New("container has no terminal"))
		return
	}
	if err := resizeConsole(s.console, r.URL.Query()); err != nil {
		httpError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleAttach hijacks the connection: output flows to it (framed unless
// the container has a terminal) and, with stdin=1, input flows from it.
func (s *supervisor) handleAttach(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	hj, ok := w.(http.Hijacker)
	if !ok {
		httpError(w, errors.New("cannot hijack"))
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	const header = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
	sub := &subscriber{
		conn:   conn,
		stdout: q.Get("stdout") == "1",
		stderr: q.Get("stderr") == "1",
		raw:    s.console != nil,
		done:   make(chan struct{}),
	}
	// The subscriber is registered before the answer goes out: the daemon
	// releases the output as soon as it has read it, and no byte may come
	// before the subscription. Its lock keeps output behind the header.
	sub.mu.Lock()
	s.mu.Lock()
	if s.exit != nil {
		s.mu.Unlock()
		sub.mu.Unlock()
		_, _ = conn.Write([]byte(header))
		conn.Close()
		return
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	_, _ = conn.Write([]byte(header))
	sub.mu.Unlock()

	if q.Get("stdin") == "1" && s.stdin != nil {
		go func() {
			_, err := io.Copy(s.stdin, readerOf(conn, buf))
			if err == nil && s.cfg.StdinOnce && s.console == nil {
				// The client closed its input: so does the container's.
				s.stdinOnce.Do(func() { s.stdin.Close() })
			}
		}()
	}
	<-sub.done
}

// httpError answers err to the daemon, which reads the message (the class
// does not cross the socket).
func httpError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": err.Error()})
}

// readerOf is the client's input on a hijacked connection: what the
// server already buffered, then the connection.
func readerOf(conn net.Conn, buf *bufio.ReadWriter) io.Reader {
	if n := buf.Reader.Buffered(); n > 0 {
		return io.MultiReader(io.LimitReader(buf.Reader, int64(n)), conn)
	}
	return conn
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
