package shim

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/pkg/atomicfile"
	"github.com/berth-project/berth/pkg/jsonlog"
)

// Stream identifiers of Docker's multiplexed stream framing.
const (
	streamStdin  = 0
	streamStdout = 1
	streamStderr = 2
)

// Run is the shim's main: `berthd shim STATE-DIR`. It expects to run
// in a mount namespace of its own (the daemon starts it so) and reports the
// result of the runtime's create on fd 3.
func Run(dir string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	readyPipe := os.NewFile(3, "ready")
	data, err := os.ReadFile(filepath.Join(dir, "shim.json"))
	if err != nil {
		reportReady(readyPipe, 0, err)
		return 1
	}
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		reportReady(readyPipe, 0, err)
		return 1
	}
	s := &supervisor{cfg: cfg, dir: dir, log: logger.With("container", cfg.ID), exited: make(chan struct{}), release: make(chan struct{})}
	for i := 0; i < cfg.HeldPorts; i++ {
		// Not for the runtime nor the container: close on exec.
		unix.CloseOnExec(4 + i)
		s.heldPorts = append(s.heldPorts, os.NewFile(uintptr(4+i), "port"))
	}
	pid, err := s.setup()
	if err != nil {
		s.log.Error("setup failed", "err", err)
		reportReady(readyPipe, 0, err)
		return 1
	}
	s.pid = pid
	reportReady(readyPipe, pid, nil)
	s.run()
	return 0
}

func reportReady(w *os.File, pid int, err error) {
	msg := Ready{Pid: pid}
	if err != nil {
		msg.Error = err.Error()
	}
	_ = json.NewEncoder(w).Encode(msg)
	w.Close()
}

type supervisor struct {
	cfg Config
	dir string
	log *slog.Logger

	pid      int
	listener net.Listener
	// heldPorts reserve the published ports until the container exits.
	heldPorts []*os.File
	logw      *jsonlog.Writer

	stdin     io.WriteCloser // nil without -i
	stdinOnce sync.Once
	console   *os.File // pty master with a terminal
	outputs   sync.WaitGroup
	// release opens the output: the process runs from the moment the
	// runtime created it, but its output waits in the pipe (or pty) until
	// the daemon has connected the attach sessions and asks for the start.
	release     chan struct{}
	releaseOnce sync.Once

	mu      sync.Mutex // guards subs, status, exit
	subs    map[*subscriber]struct{}
	status  string
	exit    *Exit
	exited  chan struct{}
	waiters sync.WaitGroup

	execMu sync.Mutex // guards execs
	execs  map[string]*execProc
}

type subscriber struct {
	mu             sync.Mutex
	conn           net.Conn
	stdout, stderr bool
	raw            bool
	done           chan struct{}
}

func (s *supervisor) setup() (int, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return 0, fmt.Errorf("become subreaper: %w", err)
	}
	rootfs := filepath.Join(s.cfg.Bundle, "rootfs")
	if err := mountRootfs(s.cfg.Rootfs, rootfs); err != nil {
		return 0, err
	}
	for _, v := range s.cfg.Volumes {
		if err := copyIntoVolume(v, rootfs); err != nil {
			return 0, err
		}
	}
	for _, t := range s.cfg.Tmpfs {
		if err := mountTmpfs(t, rootfs); err != nil {
			return 0, err
		}
	}
	logw, err := jsonlog.Open(s.cfg.LogPath)
	if err != nil {
		return 0, fmt.Errorf("open log: %w", err)
	}
	s.logw = logw
	s.subs = map[*subscriber]struct{}{}

	l, err := listenUnix(s.cfg.Socket)
	if err != nil {
		return 0, err
	}
	s.listener = l

	pid, err := s.create()
	if err != nil {
		l.Close()
		os.Remove(s.cfg.Socket)
		return 0, err
	}
	s.status = "created"
	return pid, nil
}

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

func (s *supervisor) runtimeCmd(args ...string) *exec.Cmd {
	full := append([]string{"--root", s.cfg.RuntimeRoot, "--log", filepath.Join(s.dir, "runtime.log"), "--log-format", "json"}, args...)
	return exec.Command(s.cfg.Runtime, full...)
}

// runtimeError turns a failed runtime command into the message the runtime
// logged, which is what a user needs to see.
func (s *supervisor) runtimeError(op string, err error, stderr []byte) error {
	msg := lastRuntimeError(filepath.Join(s.dir, "runtime.log"))
	if msg == "" {
		msg = strings.TrimSpace(string(stderr))
	}
	if msg == "" {
		msg = err.Error()
	}
	return fmt.Errorf("OCI runtime %s failed: %s", op, msg)
}

func lastRuntimeError(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var last string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var e struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && (e.Level == "error" || e.Level == "fatal") {
			last = e.Msg
		}
	}
	return last
}

func (s *supervisor) create() (int, error) {
	// A run whose shim was killed can leave the runtime's state behind;
	// clear it, or the runtime refuses the ID.
	if _, err := os.Stat(filepath.Join(s.cfg.RuntimeRoot, s.cfg.ID)); err == nil {
		if out, err := s.runtimeCmd("delete", "--force", s.cfg.ID).CombinedOutput(); err != nil {
			s.log.Warn("delete stale runtime state", "err", err, "output", string(out))
		}
	}
	pidFile := filepath.Join(s.dir, "init.pid")
	// One runtime call creates and starts the process (`run --detach`):
	// a separate `start` would cost another runtime process on every run.
	// Output is held back until the daemon's start, so that attach
	// sessions connected before it see every byte.
	args := []string{"run", "--detach", "--bundle", s.cfg.Bundle, "--pid-file", pidFile}
	var consoleCh chan consoleResult
	var childFiles []*os.File
	var stdinR, stdoutW, stderrW *os.File
	var stdoutR, stderrR *os.File

	cmd := s.runtimeCmd()
	if s.cfg.Terminal {
		cl, sock, cleanup, err := listenConsole(filepath.Join(s.dir, "console.sock"))
		if err != nil {
			return 0, err
		}
		defer cleanup()
		consoleCh = make(chan consoleResult, 1)
		go func() { consoleCh <- receiveConsole(cl) }()
		args = append(args, "--console-socket", sock)
	} else {
		var err error
		if s.cfg.Stdin {
			r, w, err := os.Pipe()
			if err != nil {
				return 0, err
			}
			stdinR, s.stdin = r, w
			childFiles = append(childFiles, r)
		}
		if stdoutR, stdoutW, err = os.Pipe(); err != nil {
			return 0, err
		}
		if stderrR, stderrW, err = os.Pipe(); err != nil {
			return 0, err
		}
		childFiles = append(childFiles, stdoutW, stderrW)
	}
	cmd.Args = append(cmd.Args, append(args, s.cfg.ID)...)
	var errBuf strings.Builder
	if stdinR != nil {
		cmd.Stdin = stdinR
	}
	if stdoutW != nil {
		cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	} else {
		cmd.Stderr = &errBuf
	}
	err := cmd.Run()
	for _, f := range childFiles {
		f.Close()
	}
	if err != nil {
		if stdoutR != nil {
			stdoutR.Close()
			stderrR.Close()
		}
		return 0, s.runtimeError("create", err, []byte(errBuf.String()))
	}
	if s.cfg.Terminal {
		select {
		case res := <-consoleCh:
			if res.err != nil {
				return 0, fmt.Errorf("receive console: %w", res.err)
			}
			s.console = res.f
			s.stdin = res.f
		case <-time.After(10 * time.Second):
			return 0, errors.New("runtime did not send the console")
		}
		s.outputs.Add(1)
		go s.pump(s.console, streamStdout)
	} else {
		s.outputs.Add(2)
		go s.pump(stdoutR, streamStdout)
		go s.pump(stderrR, streamStderr)
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return 0, fmt.Errorf("bad pid file: %w", err)
	}
	return pid, nil
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

// pump copies one output stream of the container to the log and to every
// subscriber until the container closes it.
func (s *supervisor) pump(r *os.File, stream byte) {
	defer s.outputs.Done()
	<-s.release
	name := "stdout"
	if stream == streamStderr {
		name = "stderr"
	}
	split := &jsonlog.LineSplitter{Emit: func(line []byte) {
		if err := s.logw.Write(name, line, time.Now()); err != nil {
			s.log.Warn("write log", "err", err)
		}
	}}
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = split.Write(buf[:n])
			s.broadcast(stream, buf[:n])
		}
		if err != nil {
			break
		}
	}
	split.Flush()
	r.Close()
}

func (s *supervisor) broadcast(stream byte, p []byte) {
	s.mu.Lock()
	subs := make([]*subscriber, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		if (stream == streamStdout && !sub.stdout) || (stream == streamStderr && !sub.stderr) {
			continue
		}
		if err := sub.write(stream, p); err != nil {
			s.unsubscribe(sub)
		}
	}
}

func (sub *subscriber) write(stream byte, p []byte) error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	_ = sub.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if sub.raw {
		_, err := sub.conn.Write(p)
		return err
	}
	var hdr [8]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	if _, err := sub.conn.Write(hdr[:]); err != nil {
		return err
	}
	_, err := sub.conn.Write(p)
	return err
}

func (s *supervisor) unsubscribe(sub *subscriber) {
	s.mu.Lock()
	_, ok := s.subs[sub]
	delete(s.subs, sub)
	s.mu.Unlock()
	if ok {
		sub.conn.Close()
		close(sub.done)
	}
}

// run serves the daemon until the container has exited and its end has
// been recorded and reported.
func (s *supervisor) run() {
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(s.listener) }()
	// A daemon that dies between spawning the shim and starting the
	// container must not leave the output blocked forever.
	go func() {
		select {
		case <-s.release:
		case <-time.After(30 * time.Second):
			s.releaseOutput()
		}
	}()

	status := s.reap()
	// The ports are free for a new run from the moment this one ends.
	for _, f := range s.heldPorts {
		f.Close()
	}
	s.outputsDone(5 * time.Second)
	exit := &Exit{Code: exitCode(status), ExitedAt: time.Now().UTC().Format(time.RFC3339Nano)}
	if s.logw != nil {
		_ = s.logw.Close()
	}
	if err := atomicfile.ReplaceJSON(s.cfg.ExitPath, exit, 0o600); err != nil {
		s.log.Error("record exit", "err", err)
	}
	s.mu.Lock()
	s.exit = exit
	s.status = "stopped"
	subs := s.subs
	s.subs = map[*subscriber]struct{}{}
	s.mu.Unlock()
	for sub := range subs {
		sub.conn.Close()
		close(sub.done)
	}
	close(s.exited)
	// The exit is reported before the runtime's state is deleted: the
	// delete is off the path of `run --rm`. The daemon waits for this
	// process to end before it starts the container again.
	if out, err := s.runtimeCmd("delete", "--force", s.cfg.ID).CombinedOutput(); err != nil {
		s.log.Warn("runtime delete", "err", err, "output", string(out))
	}
	// Give waiters a moment to receive the exit, then go.
	done := make(chan struct{})
	go func() { s.waiters.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	os.Remove(s.cfg.Socket)
}

func (s *supervisor) releaseOutput() {
	s.releaseOnce.Do(func() { close(s.release) })
}

func (s *supervisor) outputsDone(timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.outputs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.log.Warn("container output still open after exit")
	}
}

// reap waits for the container's init process, a child of the shim since
// the runtime's create exited and the shim is a subreaper.
func (s *supervisor) reap() unix.WaitStatus {
	ws, err := waitChild(s.pid)
	if err != nil {
		s.log.Error("wait for the container's process", "err", err)
	}
	return ws
}

// waitChild reaps process pid, which is or is about to become a child of
// the shim. A runtime may hand a process over through an intermediate
// that exits a moment after the runtime itself (crun run --detach): until
// then the process is not ours and wait4 says ECHILD; as the shim is a
// subreaper, it becomes ours when that intermediate is gone. A process
// that vanished without us (reaped elsewhere) reports 255.
func waitChild(pid int) (unix.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		switch {
		case err == nil:
			return ws, nil
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.ECHILD):
			if unix.Kill(pid, 0) != nil {
				return unix.WaitStatus(255 << 8), nil
			}
			time.Sleep(2 * time.Millisecond)
		default:
			return unix.WaitStatus(255 << 8), err
		}
	}
}

func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func (s *supervisor) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) {
		s.releaseOutput()
		s.mu.Lock()
		if s.status == "created" {
			s.status = "running"
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /kill", func(w http.ResponseWriter, r *http.Request) {
		sig := r.URL.Query().Get("signal")
		if sig == "" {
			sig = "KILL"
		}
		args := []string{"kill"}
		if r.URL.Query().Get("all") == "1" {
			args = append(args, "--all")
		}
		var errBuf strings.Builder
		cmd := s.runtimeCmd(append(args, s.cfg.ID, sig)...)
		cmd.Stderr = &errBuf
		if err := cmd.Run(); err != nil {
			select {
			case <-s.exited:
				w.WriteHeader(http.StatusNoContent)
			default:
				// The process may have gone between our check and the kill.
				if unix.Kill(s.pid, 0) != nil {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				httpError(w, s.runtimeError("kill", err, []byte(errBuf.String())))
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	for _, op := range []string{"pause", "resume"} {
		mux.HandleFunc("POST /"+op, func(w http.ResponseWriter, r *http.Request) {
			var errBuf strings.Builder
			cmd := s.runtimeCmd(op, s.cfg.ID)
			cmd.Stderr = &errBuf
			if err := cmd.Run(); err != nil {
				httpError(w, s.runtimeError(op, err, []byte(errBuf.String())))
				return
			}
			s.mu.Lock()
			if op == "pause" {
				s.status = "paused"
			} else {
				s.status = "running"
			}
			s.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		})
	}
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		st := State{Pid: s.pid, Status: s.status, Exit: s.exit}
		s.mu.Unlock()
		writeJSON(w, st)
	})
	mux.HandleFunc("GET /wait", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("POST /resize", func(w http.ResponseWriter, r *http.Request) {
		if s.console == nil {
			httpError(w, errors.New("container has no terminal"))
			return
		}
		h, _ := strconv.Atoi(r.URL.Query().Get("h"))
		wd, _ := strconv.Atoi(r.URL.Query().Get("w"))
		ws := &unix.Winsize{Row: uint16(h), Col: uint16(wd)}
		if err := unix.IoctlSetWinsize(int(s.console.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			httpError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /attach", s.handleAttach)
	s.execRoutes(mux)
	return mux
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
			var src io.Reader = conn
			if buf.Reader.Buffered() > 0 {
				src = io.MultiReader(io.LimitReader(buf.Reader, int64(buf.Reader.Buffered())), conn)
			}
			_, err := io.Copy(s.stdin, src)
			if err == nil && s.cfg.StdinOnce && s.console == nil {
				// The client closed its input: so does the container's.
				s.stdinOnce.Do(func() { s.stdin.Close() })
			}
		}()
	}
	<-sub.done
}

func httpError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": err.Error()})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

var _ = syscall.SIGTERM
