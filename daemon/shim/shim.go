package shim

import (
	"bufio"
	"bytes"
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
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/pkg/atomicfile"
	"github.com/berth-project/berth/pkg/cgroupwarm"
	"github.com/berth-project/berth/pkg/jsonlog"
	"github.com/berth-project/berth/pkg/pidwait"
	"github.com/berth-project/berth/pkg/runtrace"
)

// Stream identifiers of Docker's multiplexed stream framing.
const (
	streamStdin  = 0
	streamStdout = 1
	streamStderr = 2
)

// Run is the shim's main: `berth-shim shim STATE-DIR` (or `berthd shim
// STATE-DIR`). It expects to run
// in a mount namespace of its own, a copy of its parent's (the daemon
// clones it so), and reports the result of the runtime's create on fd 3.
func Run(dir string) int {
	runtrace.Mark("shim main")
	// The daemon starts shims with GOMAXPROCS=1 (for the Go runtime of
	// this process only): the OCI runtime and exec'd processes must not
	// inherit it.
	os.Unsetenv("GOMAXPROCS")
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	readyPipe := os.NewFile(3, "ready")
	if err := becomeSlave(os.Getppid()); err != nil {
		logger.Error("mount namespace", "err", err)
		reportReady(readyPipe, 0, err)
		return 1
	}
	go cgroupwarm.Warm("shim")
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
	s := &supervisor{
		cfg:     cfg,
		dir:     dir,
		log:     logger.With("container", cfg.ID),
		state:   newLifecycle(),
		exited:  make(chan struct{}),
		release: make(chan struct{}),
	}
	for i := 0; i < cfg.HeldPorts; i++ {
		// Not for the runtime nor the container: close on exec.
		unix.CloseOnExec(4 + i)
		s.heldPorts = append(s.heldPorts, os.NewFile(uintptr(4+i), "port"))
	}
	for i := range cfg.SharedBinds {
		fd := 4 + cfg.HeldPorts + i
		unix.CloseOnExec(fd)
		s.sharedTrees = append(s.sharedTrees, os.NewFile(uintptr(fd), cfg.SharedBinds[i].Source))
	}
	pid, err := s.setup()
	if err != nil {
		s.log.Error("setup failed", "err", err)
		reportReady(readyPipe, 0, err)
		return 1
	}
	s.pid = pid
	// A cgroup left by an earlier run may hold old OOM kills: only new
	// ones count.
	s.oomBase, _ = oomKills(cgroupRoot, cfg.CgroupsPath)
	reportReady(readyPipe, pid, nil)
	runtrace.Mark("shim ready")
	s.run()
	runtrace.Mark("shim end")
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
	oomBase  uint64 // OOM kills in the cgroup when the container was created
	listener net.Listener
	// heldPorts reserve the published ports until the container exits.
	heldPorts []*os.File
	// sharedTrees are the daemon's clones of the sources of
	// cfg.SharedBinds, until setup attaches them.
	sharedTrees []*os.File
	logw        *jsonlog.Writer

	stdin     io.WriteCloser // nil without -i
	stdinOnce sync.Once
	console   *os.File // pty master with a terminal
	outputs   sync.WaitGroup
	// release opens the output: the process runs from the moment the
	// runtime created it, but its output waits in the pipe (or pty) until
	// the daemon has connected the attach sessions and asks for the start.
	release     chan struct{}
	releaseOnce sync.Once

	// opMu serializes the container's transitions with the runtime
	// calls they make: an exit never lands between the runtime's pause
	// and the paused state. State reads need only mu.
	opMu sync.Mutex

	mu      sync.Mutex // guards subs, state, exit
	subs    map[*subscriber]struct{}
	state   lifecycle
	exit    *Exit
	exited  chan struct{}
	waiters sync.WaitGroup

	execMu sync.Mutex // guards execs
	execs  map[string]*execProc
	// startMu is held for reading while an exec is started, until its
	// pid is known, and for writing by reapStrays.
	startMu sync.RWMutex
	// cmdMu is held while a runtime command starts, until its pid is in
	// cmds, and by reapStrays: os/exec waits for those processes.
	cmdMu sync.Mutex
	cmds  map[int]bool
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
	runtrace.Mark("shim config-read")
	if err := mountRootfs(s.cfg.Rootfs, rootfs); err != nil {
		return 0, err
	}
	runtrace.Mark("shim rootfs-mounted")
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
	for _, sp := range s.cfg.Subpaths {
		if err := mountSubpath(sp); err != nil {
			return 0, err
		}
	}
	if err := attachSharedBinds(s.cfg.SharedBinds, s.sharedTrees); err != nil {
		return 0, err
	}
	runtrace.Mark("shim mounts-done")
	if s.cfg.LogPath != "" {
		logw, err := jsonlog.OpenRotating(s.cfg.LogPath, s.cfg.LogMaxSize, s.cfg.LogMaxFiles)
		if err != nil {
			return 0, fmt.Errorf("open log: %w", err)
		}
		s.logw = logw
	}
	s.subs = map[*subscriber]struct{}{}

	l, err := listenUnix(s.cfg.Socket)
	if err != nil {
		return 0, err
	}
	s.listener = l

	// The clones must still be peers of the host's mounts when the
	// runtime binds them: making the namespace a slave after they were
	// attached would have made them slaves too.
	if err := checkSharedStaging(s.cfg.SharedBinds); err != nil {
		l.Close()
		os.Remove(s.cfg.Socket)
		return 0, err
	}
	runtrace.Mark("shim listening")
	pid, err := s.create()
	if err != nil {
		l.Close()
		os.Remove(s.cfg.Socket)
		return 0, err
	}
	return pid, nil
}

func (s *supervisor) runtimeCmd(args ...string) *exec.Cmd {
	full := append([]string{"--root", s.cfg.RuntimeRoot, "--log", filepath.Join(s.dir, "runtime.log"), "--log-format", "json"}, args...)
	return exec.Command(s.cfg.Runtime, full...)
}

// runCmd runs a runtime command and waits for it; meanwhile its pid is
// among those reapStrays leaves to os/exec.
func (s *supervisor) runCmd(cmd *exec.Cmd) error {
	s.cmdMu.Lock()
	err := cmd.Start()
	var pid int
	if err == nil {
		pid = cmd.Process.Pid
		if s.cmds == nil {
			s.cmds = map[int]bool{}
		}
		s.cmds[pid] = true
	}
	s.cmdMu.Unlock()
	if err != nil {
		return err
	}
	err = cmd.Wait()
	s.cmdMu.Lock()
	delete(s.cmds, pid)
	s.cmdMu.Unlock()
	return err
}

// deleteRun runs the runtime's delete --force of the container; its
// output is the error's.
func (s *supervisor) deleteRun() error {
	var out bytes.Buffer
	cmd := s.runtimeCmd("delete", "--force", s.cfg.ID)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := s.runCmd(cmd); err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// runtimeError turns a failed runtime command into the message the runtime
// logged, which is what a user needs to see.
func (s *supervisor) runtimeError(op string, err error, stderr []byte) error {
	return fmt.Errorf("OCI runtime %s failed: %s", op, s.runtimeMessage(err, stderr))
}

// runtimeMessage is the message a failed runtime command logged, else
// what it printed, else how it failed.
func (s *supervisor) runtimeMessage(err error, stderr []byte) string {
	msg := lastRuntimeError(filepath.Join(s.dir, "runtime.log"))
	if msg == "" {
		msg = strings.TrimSpace(string(stderr))
	}
	if msg == "" {
		msg = err.Error()
	}
	return msg
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
		if err := s.deleteRun(); err != nil {
			s.log.Warn("delete stale runtime state", "err", err)
		}
	}
	// One runtime call creates and starts the process (`run --detach`):
	// a separate `start` would cost another runtime process on every run.
	// Output is held back until the daemon's start, so that attach
	// sessions connected before it see every byte.
	pid, pio, err := s.startProcess("create", []string{"run", "--detach", "--bundle", s.cfg.Bundle}, stdioSpec{
		terminal:      s.cfg.Terminal,
		consoleSocket: filepath.Join(s.dir, "console.sock"),
		stdin:         s.cfg.Stdin,
		pidFile:       filepath.Join(s.dir, "init.pid"),
	}, s.bundleArg0)
	if err != nil {
		return 0, err
	}
	runtrace.Mark("shim runtime-run-done")
	awaitUserProcess(pid, s.cfg.Runtime)
	runtrace.Mark("shim user-process")
	if pio.console != nil {
		s.console, s.stdin = pio.console, pio.console
		s.outputs.Add(1)
		go s.pump(s.console, streamStdout)
		return pid, nil
	}
	if pio.stdin != nil {
		s.stdin = pio.stdin
	}
	s.outputs.Add(2)
	go s.pump(pio.stdout, streamStdout)
	go s.pump(pio.stderr, streamStderr)
	return pid, nil
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
		if s.logw == nil {
			return // the none log driver
		}
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
	s.reapStrays()
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
	runtrace.Mark("shim reaped")
	// The ports are free for a new run from the moment this one ends.
	for _, f := range s.heldPorts {
		f.Close()
	}
	s.outputsDone(5 * time.Second)
	exit := &Exit{Code: exitCode(status), ExitedAt: time.Now().UTC().Format(time.RFC3339Nano)}
	// Read before the runtime's delete removes the cgroup.
	if n, ok := oomKills(cgroupRoot, s.cfg.CgroupsPath); ok && n > s.oomBase {
		exit.OOMKilled = true
	}
	if s.logw != nil {
		_ = s.logw.Close()
	}
	if err := atomicfile.ReplaceJSON(s.cfg.ExitPath, exit, 0o600); err != nil {
		s.log.Error("record exit", "err", err)
	}
	runtrace.Mark("shim exit-recorded")
	// The exit is a transition like the daemon's requests, and lands
	// between them, never inside one; the state and the exit change
	// together for readers of the state.
	s.opMu.Lock()
	s.mu.Lock()
	if next, err := s.state.next(opExit); err != nil {
		s.log.Error("container state", "err", err)
	} else {
		s.state = next
	}
	s.exit = exit
	subs := s.subs
	s.subs = map[*subscriber]struct{}{}
	s.mu.Unlock()
	s.opMu.Unlock()
	for sub := range subs {
		sub.conn.Close()
		close(sub.done)
	}
	close(s.exited)
	runtrace.Mark("shim exit-reported")
	// The exit is reported before the runtime's state is deleted: the
	// delete is off the path of `run --rm`. The daemon waits for this
	// process to end before it starts the container again. The answers
	// to the daemon's /wait go out first: the shim has one P, and the
	// fork and exec of the runtime hold it for a millisecond or more,
	// with the answer waiting behind them.
	s.awaitWaiters(100 * time.Millisecond)
	err := s.transition(opDelete, s.deleteRun)
	if err != nil {
		s.log.Warn("runtime delete", "err", err)
	}
	runtrace.Mark("shim runtime-deleted")
	// Give waiters that came later a moment to receive the exit, then go.
	s.awaitWaiters(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	os.Remove(s.cfg.Socket)
}

// awaitWaiters waits, at most timeout, until the /wait requests that
// came have their answer sent.
func (s *supervisor) awaitWaiters(timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.waiters.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
	}
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
// that vanished without us (reaped elsewhere) reports 255. The wait is in
// Go's poller first (pidwait): the shim has one P, which a thread blocked
// in wait4 would hold, stalling the shim's requests.
func waitChild(pid int) (unix.WaitStatus, error) {
	pidwait.Exited(pid)
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

// transition applies op to the container's state if its state allows it,
// with action (the runtime call that does op, if any) run first: a failed
// action leaves the state as it was.
func (s *supervisor) transition(op operation, action func() error) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	next, err := s.state.next(op)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if action != nil {
		if err := action(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.state = next
	s.mu.Unlock()
	return nil
}

// allowed says whether the container's state allows op, which changes
// nothing (a kill), and returns that state.
func (s *supervisor) allowed(op operation) (lifecycle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.state.next(op)
	return s.state, err
}
