package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/oci"
	"github.com/berth-project/berth/daemon/runspec"
	"github.com/berth-project/berth/daemon/shim"
	"github.com/berth-project/berth/daemon/shimclient"
)

// execConfig is one exec instance: created by POST /containers/{id}/exec,
// run once by POST /exec/{id}/start. Exec instances live in memory only,
// as in Docker they do not survive a daemon restart.
type execConfig struct {
	id          string
	containerID string
	req         containertypes.ExecCreateRequest
	detachKeys  []byte

	mu       sync.Mutex // guards the fields below
	started  bool
	running  bool
	pid      int
	exitCode *int
	shim     *shimclient.Client
	done     chan struct{} // closed once exitCode is set
	ran      chan struct{} // closed once the process runs or exitCode is set; see ranChan
	ranShut  bool          // ran is closed
}

// execStore holds the exec instances of all containers.
type execStore struct {
	mu sync.Mutex // guards m
	m  map[string]*execConfig
}

func (s *execStore) add(e *execConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*execConfig{}
	}
	s.m[e.id] = e
}

func (s *execStore) get(id string) (*execConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[id]; ok {
		return e, nil
	}
	return nil, errdefs.ErrNotFound.WithMessage("No such exec instance: " + id)
}

// prune forgets the exec instances of containers that no longer exist.
func (s *execStore) prune(exists func(id string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.m {
		if !exists(e.containerID) {
			delete(s.m, id)
		}
	}
}

// ContainerExecCreate registers a command to run in a running container
// and returns the exec instance's id.
func (d *Daemon) ContainerExecCreate(ctx context.Context, name string, req *containertypes.ExecCreateRequest) (string, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return "", err
	}
	if len(req.Cmd) == 0 {
		return "", errdefs.ErrInvalidArgument.WithMessage("No exec command specified")
	}
	keys, err := detachKeys(req.DetachKeys)
	if err != nil {
		return "", err
	}
	c.Lock()
	err = checkExecState(c)
	c.Unlock()
	if err != nil {
		return "", err
	}
	d.execs.prune(func(id string) bool { _, err := d.containers.Get(id); return err == nil })
	e := &execConfig{id: newID(), containerID: c.ID, req: *req, detachKeys: keys, done: make(chan struct{})}
	d.execs.add(e)
	d.containerEvent(c, execAction(eventtypes.ActionExecCreate, req.Cmd), map[string]string{"execID": e.id})
	return e.id, nil
}

// execAction is Docker's action of an exec event: its kind, the program
// and its arguments, separated by spaces even when there are none
// ("exec_start: sh -c true", "exec_start: true ").
func execAction(kind eventtypes.Action, cmd []string) eventtypes.Action {
	if len(cmd) == 0 {
		return kind
	}
	return eventtypes.Action(string(kind) + ": " + cmd[0] + " " + strings.Join(cmd[1:], " "))
}

// execEvent publishes an exec event of e's container.
func (d *Daemon) execEvent(e *execConfig, kind eventtypes.Action, extra map[string]string) {
	c, err := d.containers.Get(e.containerID)
	if err != nil {
		return
	}
	attrs := map[string]string{"execID": e.id}
	maps.Copy(attrs, extra)
	action := kind
	if kind != eventtypes.ActionExecDie {
		action = execAction(kind, e.req.Cmd)
	}
	d.containerEvent(c, action, attrs)
}

// checkExecState refuses an exec in a container that does not run. The
// caller holds c's lock.
func checkExecState(c *container.Container) error {
	switch c.State.Status {
	case containertypes.StateRunning:
		return nil
	case containertypes.StatePaused:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is paused, unpause the container before exec", c.ID))
	case containertypes.StateRestarting:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is restarting, wait until the container is running", c.ID))
	}
	return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
}

// ContainerExecStart runs an exec instance. Detached, it returns once the
// process runs; attached, it returns when the process has exited and its
// output has been delivered (or the client went away).
func (d *Daemon) ContainerExecStart(ctx context.Context, id string, opts backend.ExecStartOptions) error {
	e, err := d.execs.get(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.started {
		ran := e.exitCode != nil
		e.mu.Unlock()
		if ran {
			return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Error: Exec command %s has already run", id))
		}
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Error: Exec command %s is already running", id))
	}
	e.started = true
	e.mu.Unlock()

	c, err := d.containers.Get(e.containerID)
	if err != nil {
		e.finish(126)
		return err
	}
	c.Lock()
	err = checkExecState(c)
	sc := d.liveOf(c.ID).shim
	c.Unlock()
	if err == nil && sc == nil {
		err = fmt.Errorf("container %s: %w", c.ID, errShimGone)
	}
	if err != nil {
		e.finish(126)
		return err
	}
	proc, err := d.execProcess(c, &e.req)
	if err != nil {
		e.finish(126)
		return err
	}
	if opts.ConsoleSize != nil && e.req.Tty {
		proc.ConsoleSize = &specs.Box{Height: opts.ConsoleSize[0], Width: opts.ConsoleSize[1]}
	}
	req := e.req
	if opts.Detach {
		if _, _, err := sc.Exec(ctx, id, proc, shim.ExecOptions{Detach: true}); err != nil {
			e.finish(runtimeExitCode(err))
			return err
		}
		e.setRunning(sc)
		d.execEvent(e, eventtypes.ActionExecStart, nil)
		go d.waitExec(e, sc)
		return nil
	}

	streams, err := opts.GetStreams(req.Tty, req.AttachStdin)
	if err != nil {
		e.finish(126)
		return err
	}
	if streams.Stdin != nil {
		defer streams.Stdin.Close()
	}
	conn, r, err := sc.Exec(ctx, id, proc, shim.ExecOptions{Stdin: req.AttachStdin, Stdout: req.AttachStdout, Stderr: req.AttachStderr})
	if err != nil {
		// The connection is hijacked: the error can only go to the stream,
		// where the docker CLI prints it; the exit code says the rest.
		e.finish(runtimeExitCode(err))
		out := streams.Stderr
		if out == nil {
			out = streams.Stdout
		}
		_, _ = io.WriteString(out, err.Error()+": unknown\r\n")
		return nil
	}
	defer conn.Close()
	e.setRunning(sc)
	d.execEvent(e, eventtypes.ActionExecStart, nil)
	waited := make(chan struct{})
	go func() {
		d.waitExec(e, sc)
		close(waited)
	}()

	detached := make(chan struct{})
	if req.AttachStdin && streams.Stdin != nil {
		go func() {
			var in io.Reader = streams.Stdin
			if req.Tty {
				in = newEscapeReader(in, e.detachKeys)
			}
			_, err := io.Copy(conn, in)
			switch {
			case errors.Is(err, errDetached):
				close(detached)
				conn.Close()
			case err == nil && !req.Tty:
				if cw, ok := conn.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
			}
		}()
	}
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	if req.Tty {
		_, err = io.Copy(streams.Stdout, r)
	} else {
		_, err = stdcopy.StdCopy(streams.Stdout, streams.Stderr, r)
	}
	select {
	case <-detached:
		return nil
	default:
	}
	// The docker CLI asks for the exit code as soon as the stream ends.
	select {
	case <-waited:
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
	return ignoreClosed(err)
}

// waitExec records the exit of an exec process.
func (d *Daemon) waitExec(e *execConfig, sc *shimclient.Client) {
	st, err := sc.ExecWait(d.ctx, e.id)
	if err != nil || st.ExitCode == nil {
		// The shim is gone: the container ended and took the process along.
		e.finish(137)
		d.execEvent(e, eventtypes.ActionExecDie, map[string]string{"exitCode": "137"})
		return
	}
	e.finish(*st.ExitCode)
	d.execEvent(e, eventtypes.ActionExecDie, map[string]string{"exitCode": strconv.Itoa(*st.ExitCode)})
}

func (e *execConfig) setRunning(sc *shimclient.Client) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exitCode == nil {
		e.running = true
		e.shim = sc
	}
	e.closeRan()
}

func (e *execConfig) finish(code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exitCode != nil {
		return
	}
	e.running = false
	e.exitCode = &code
	close(e.done)
	e.closeRan()
}

// ranChan returns the channel closed once the process runs or the exec
// has finished. e.mu must be held.
func (e *execConfig) ranChan() chan struct{} {
	if e.ran == nil {
		e.ran = make(chan struct{})
	}
	return e.ran
}

// closeRan closes ranChan once. e.mu must be held.
func (e *execConfig) closeRan() {
	if !e.ranShut {
		close(e.ranChan())
		e.ranShut = true
	}
}

// runtimeExitCode is the exit code of a process the runtime could not
// start, as a shell reports it.
func runtimeExitCode(err error) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	}
	return 126
}

// ContainerExecInspect returns an exec instance as GET /exec/{id}/json
// shows it.
func (d *Daemon) ContainerExecInspect(ctx context.Context, id string) (*containertypes.ExecInspectResponse, error) {
	e, err := d.execs.get(id)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	sc, running, pid := e.shim, e.running, e.pid
	e.mu.Unlock()
	if running && pid == 0 && sc != nil {
		if st, err := sc.ExecState(ctx, id); err == nil {
			e.mu.Lock()
			e.pid = st.Pid
			e.mu.Unlock()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	pc := &containertypes.ExecProcessConfig{
		Tty:        e.req.Tty,
		Entrypoint: e.req.Cmd[0],
		Arguments:  slices.Clone(e.req.Cmd[1:]),
		User:       e.req.User,
	}
	if e.req.Privileged {
		priv := true
		pc.Privileged = &priv
	}
	var code *int
	if e.exitCode != nil {
		v := *e.exitCode
		code = &v
	}
	return &containertypes.ExecInspectResponse{
		ID:            e.id,
		Running:       e.running,
		ExitCode:      code,
		ProcessConfig: pc,
		OpenStdin:     e.req.AttachStdin,
		OpenStdout:    e.req.AttachStdout,
		OpenStderr:    e.req.AttachStderr,
		ContainerID:   e.containerID,
		DetachKeys:    e.detachKeys,
		Pid:           e.pid,
	}, nil
}

// ContainerExecResize sets the terminal size of a running exec process.
func (d *Daemon) ContainerExecResize(ctx context.Context, id string, height, width uint) error {
	e, err := d.execs.get(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	started, ran := e.started, e.ranChan()
	e.mu.Unlock()
	if started {
		// As Docker: the docker CLI resizes right after the start, which may
		// come before the runtime has the process running (longer with a
		// seccomp filter to compile); wait for it, 10s at most.
		select {
		case <-ran:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
		}
	}
	e.mu.Lock()
	sc, running := e.shim, e.running
	e.mu.Unlock()
	if !running || sc == nil {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Exec %s is not running, so it can not be resized.", id))
	}
	return sc.ExecResize(ctx, id, height, width)
}

// execProcess builds the exec's OCI process from the container's own (its
// user, environment, working directory, capabilities and limits) with the
// request's command, environment, working directory, user and terminal.
func (d *Daemon) execProcess(c *container.Container, req *containertypes.ExecCreateRequest) (*specs.Process, error) {
	data, err := os.ReadFile(filepath.Join(d.shimDir(c.ID), "bundle", "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read the container's runtime spec: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("decode the container's runtime spec: %w", err)
	}
	if spec.Process == nil {
		return nil, fmt.Errorf("the container's runtime spec has no process")
	}
	p := *spec.Process
	p.Args = slices.Clone(req.Cmd)
	p.Terminal = req.Tty
	p.ConsoleSize = nil
	p.Env = mergeEnv(p.Env, req.Env)
	if req.Tty && !runspec.HasEnv(p.Env, "TERM") {
		p.Env = append(p.Env, "TERM=xterm")
	}
	if req.WorkingDir != "" {
		p.Cwd = req.WorkingDir
	}
	if req.User != "" {
		eu, err := imageFS{layers: c.Layers}.execUser(req.User)
		if err != nil {
			return nil, err
		}
		// As Docker: --group-add applies to exec users too.
		extra, err := imageFS{layers: c.Layers}.groupAdd(c.HostConfig.GroupAdd)
		if err != nil {
			return nil, err
		}
		p.User = specs.User{UID: uint32(eu.Uid), GID: uint32(eu.Gid)}
		for _, g := range addGids(eu.Sgids, extra) {
			p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
		}
	}
	caps := specs.LinuxCapabilities{}
	if p.Capabilities != nil {
		caps = *p.Capabilities
	}
	if req.Privileged {
		all, _ := oci.Capabilities(nil, nil, true)
		if d.hostCaps != nil {
			all = slices.DeleteFunc(all, func(c string) bool { return !slices.Contains(d.hostCaps, c) })
		}
		caps.Bounding = all
	}
	// As execve does: root gets the bounding set, another user none.
	caps.Effective, caps.Permitted, caps.Inheritable, caps.Ambient = nil, nil, nil, nil
	if p.User.UID == 0 {
		caps.Effective = slices.Clone(caps.Bounding)
		caps.Permitted = slices.Clone(caps.Bounding)
	}
	p.Capabilities = &caps
	return &p, nil
}

// mergeEnv returns base with each "KEY=value" of over replacing the entry
// of the same key, or appended.
func mergeEnv(base, over []string) []string {
	out := slices.Clone(base)
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		i := slices.IndexFunc(out, func(e string) bool { ek, _, _ := strings.Cut(e, "="); return ek == k })
		if i >= 0 {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out
}
