package shimclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/daemon/shim"
	"github.com/berth-project/berth/pkg/pidwait"
	"github.com/berth-project/berth/pkg/runtrace"
)

// Client is the daemon's handle on one container's shim.
type Client struct {
	Dir    string
	socket string
	// gone is closed when the shim process has exited, for shims this
	// daemon started; pid is polled for those it found at restore.
	gone chan struct{}
	pid  int
}

// socketKey carries a request's shim socket to the shared transport's
// dialer.
type socketKey struct{}

// transport serves the requests to every shim: each request dials the
// socket its context names, and no connection is kept. One transport for
// all, not one per Client: a transport keeps its bookkeeping (about 3 KiB)
// after its requests, and a daemon has a Client per running container.
var transport = &http.Transport{
	DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		sock, _ := ctx.Value(socketKey{}).(string)
		if sock == "" {
			return nil, errors.New("no shim socket for the request")
		}
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	},
	DisableKeepAlives: true,
}

var httpClient = &http.Client{Transport: transport}

func newClient(dir, socket string) *Client {
	return &Client{Dir: dir, socket: socket}
}

// Spawn starts a shim for cfg with its state in dir and returns once the
// runtime has created the container (its process waits for Start). The shim
// runs in its own session and mount namespace, and outlives the daemon.
// self is the path of the berthd binary. The shim gets held (the
// published ports' sockets) from fd 4 on and then trees, the clones of the
// sources of cfg.SharedBinds, in order; the caller keeps and closes its
// own copies.
func Spawn(ctx context.Context, self, dir string, cfg shim.Config, held, trees []*os.File) (*Client, int, error) {
	cfg.HeldPorts = len(held)
	if len(trees) != len(cfg.SharedBinds) {
		return nil, 0, fmt.Errorf("%d mount clones for %d shared binds", len(trees), len(cfg.SharedBinds))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, err
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "shim.json"), data, 0o600); err != nil {
		return nil, 0, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, 0, err
	}
	defer readyR.Close()
	logf, err := os.OpenFile(filepath.Join(dir, "shim.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		readyW.Close()
		return nil, 0, err
	}
	defer logf.Close()
	// The shim is cloned into a mount namespace of its own (Cloneflags:
	// no extra process, unlike util-linux unshare), and its first act is
	// to make that namespace a slave of the host's (shim.Run): its mounts
	// (tmpfs staging) never reach the host, but mounts the host makes
	// later still reach the containers whose binds ask for rslave
	// propagation, as under Docker. Go's Unshareflags would make the
	// namespace rprivate instead, cutting that propagation. Shared binds
	// come from trees, cloned in the host's namespace, which the shim
	// attaches after it made its namespace a slave.
	cmd := exec.Command(self, "shim", dir)
	cmd.Dir = "/"
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.ExtraFiles = append(append([]*os.File{readyW}, held...), trees...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Cloneflags: syscall.CLONE_NEWNS}
	runtrace.Mark("spawn exec")
	// One P: a shim lives as long as its container and mostly waits. Set
	// from the start, it keeps the Go runtime's per-P caches to one,
	// about 300 KiB less per shim than the daemon's default. The shim
	// drops the variable at once, so the runtime it runs does not get it.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	if err := cmd.Start(); err != nil {
		readyW.Close()
		return nil, 0, fmt.Errorf("start shim: %w", err)
	}
	readyW.Close()
	pid := cmd.Process.Pid
	if err := os.WriteFile(filepath.Join(dir, "shim.pid"), []byte(fmt.Sprint(pid)), 0o600); err != nil {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		return nil, 0, err
	}
	// The shim is not our child for long: reap it when it exits so it
	// leaves no zombie while the daemon runs.
	// Only the process is kept, not cmd (its copy of the environment).
	gone := make(chan struct{})
	proc := cmd.Process
	go func() {
		pidwait.Exited(proc.Pid)
		_, _ = proc.Wait()
		close(gone)
	}()

	var msg shim.Ready
	type result struct{ err error }
	done := make(chan result, 1)
	go func() { done <- result{json.NewDecoder(readyR).Decode(&msg)} }()
	select {
	case res := <-done:
		if res.err != nil {
			return nil, 0, fmt.Errorf("shim exited before reporting (see %s): %w", filepath.Join(dir, "shim.log"), res.err)
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return nil, 0, ctx.Err()
	}
	runtrace.Mark("spawn ready")
	if msg.Error != "" {
		return nil, 0, errors.New(msg.Error)
	}
	c := newClient(dir, cfg.Socket)
	c.gone, c.pid = gone, pid
	return c, msg.Pid, nil
}

// Connect returns a handle on the shim whose state is in dir, if it still
// answers.
func Connect(dir, socket string) (*Client, error) {
	s := newClient(dir, socket)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := s.State(ctx); err != nil {
		return nil, err
	}
	if data, err := os.ReadFile(filepath.Join(dir, "shim.pid")); err == nil {
		s.pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	} else if pids := Running(filepath.Dir(dir))[filepath.Base(dir)]; len(pids) == 1 {
		// A daemon that died right after spawning the shim did not
		// record its pid; WaitGone needs it.
		s.pid = pids[0]
	}
	return s, nil
}

// WaitGone waits, at most timeout, until the shim process has exited: a
// shim reports the exit first and cleans the runtime's state after, and
// the next run of the same container must not overlap that cleanup.
func (s *Client) WaitGone(timeout time.Duration) {
	deadline := time.After(timeout)
	if s.gone != nil {
		select {
		case <-s.gone:
		case <-deadline:
		}
		return
	}
	if s.pid <= 0 {
		return
	}
	for {
		if err := syscall.Kill(s.pid, 0); err != nil {
			return
		}
		select {
		case <-deadline:
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func (s *Client) do(ctx context.Context, method, path string, q url.Values, out any) error {
	return s.send(ctx, method, path, q, nil, out)
}

// send is do with a request body.
func (s *Client) send(ctx context.Context, method, path string, q url.Values, body io.Reader, out any) error {
	u := "http://shim" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, socketKey{}, s.socket), method, u, body)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("shim: %w", err)
	}
	defer resp.Body.Close()
	return decodeResponse(resp, out)
}

// decodeResponse decodes a shim's answer into out (if not nil), or returns
// the error it reports.
func decodeResponse(resp *http.Response, out any) error {
	if resp.StatusCode >= 300 {
		var e struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if e.Message == "" {
			e.Message = resp.Status
		}
		return errors.New(e.Message)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// Start starts the container's process.
func (s *Client) Start(ctx context.Context) error { return s.do(ctx, "POST", "/start", nil, nil) }

// Kill sends a signal (a name or number) to the process, or to all the
// container's processes.
func (s *Client) Kill(ctx context.Context, signal string, all bool) error {
	q := url.Values{"signal": {signal}}
	if all {
		q.Set("all", "1")
	}
	return s.do(ctx, "POST", "/kill", q, nil)
}

// Update changes the cgroup limits of the running container (the
// runtime's update).
func (s *Client) Update(ctx context.Context, r *specs.LinuxResources) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.send(ctx, "POST", "/update", nil, bytes.NewReader(data), nil)
}

// Pause freezes the container; Resume thaws it.
func (s *Client) Pause(ctx context.Context) error  { return s.do(ctx, "POST", "/pause", nil, nil) }
func (s *Client) Resume(ctx context.Context) error { return s.do(ctx, "POST", "/resume", nil, nil) }

// State asks the shim for its container's state.
func (s *Client) State(ctx context.Context) (shim.State, error) {
	var st shim.State
	err := s.do(ctx, "GET", "/state", nil, &st)
	return st, err
}

// Wait blocks until the container exits and returns its exit. The daemon
// has one Wait per running container for the container's whole life, so
// it holds only its connection and its own goroutine: an http.Client
// request would keep two more goroutines and 8 KiB of buffers per
// container.
func (s *Client) Wait(ctx context.Context) (*shim.Exit, error) {
	return s.SendWait(ctx).Result()
}

// PendingWait is a wait request sent to the shim, whose answer is read
// later, or the error that kept it from being sent.
type PendingWait struct {
	ctx  context.Context
	conn net.Conn
	err  error
}

// SendWait sends the wait request and returns without its answer. Sent
// before the container can end, it is among the waiters the shim answers
// before it goes on after that end (the runtime's delete, whose fork and
// exec would hold up an answer to a later request).
func (s *Client) SendWait(ctx context.Context) *PendingWait {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", s.socket)
	if err != nil {
		return &PendingWait{err: fmt.Errorf("shim: %w", err)}
	}
	if _, err := io.WriteString(conn, "GET /wait HTTP/1.1\r\nHost: shim\r\nConnection: close\r\n\r\n"); err != nil {
		conn.Close()
		return &PendingWait{err: waitErr(ctx, err)}
	}
	return &PendingWait{ctx: ctx, conn: conn}
}

// Close drops a wait whose answer is not wanted.
func (p *PendingWait) Close() {
	if p.conn != nil {
		p.conn.Close()
	}
}

// Result blocks until the container exits and returns its exit; the
// request is done after it.
func (p *PendingWait) Result() (*shim.Exit, error) {
	if p.err != nil {
		return nil, p.err
	}
	defer p.conn.Close()
	defer context.AfterFunc(p.ctx, func() { p.conn.Close() })()
	resp, err := http.ReadResponse(bufio.NewReaderSize(p.conn, 512), nil)
	if err != nil {
		return nil, waitErr(p.ctx, err)
	}
	defer resp.Body.Close()
	var e shim.Exit
	if err := decodeResponse(resp, &e); err != nil {
		if p.ctx.Err() != nil {
			return nil, p.ctx.Err()
		}
		return nil, err
	}
	return &e, nil
}

// waitErr is ctx's error once ctx is done (it closed the connection),
// else err from the shim.
func waitErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("shim: %w", err)
}

// Resize sets the terminal size.
func (s *Client) Resize(ctx context.Context, h, w uint) error {
	return s.do(ctx, "POST", "/resize", url.Values{"h": {fmt.Sprint(h)}, "w": {fmt.Sprint(w)}}, nil)
}

// Attach opens a stream: output of the selected streams arrives on the
// returned connection (in Docker's framing unless the container has a
// terminal); with stdin, what is written to it reaches the container.
func (s *Client) Attach(ctx context.Context, stdin, stdout, stderr bool) (net.Conn, *bufio.Reader, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", s.socket)
	if err != nil {
		return nil, nil, fmt.Errorf("shim: %w", err)
	}
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	q := url.Values{"stdin": {b(stdin)}, "stdout": {b(stdout)}, "stderr": {b(stderr)}}
	req := "POST /attach?" + q.Encode() + " HTTP/1.1\r\nHost: shim\r\nContent-Length: 0\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		conn.Close()
		return nil, nil, fmt.Errorf("shim attach: %q %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
		if line == "\r\n" {
			break
		}
	}
	return conn, br, nil
}

// ReadExit reads the exit a shim recorded, if any.
func ReadExit(path string) (*shim.Exit, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e shim.Exit
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
