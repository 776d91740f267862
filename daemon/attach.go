package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/moby/moby/api/pkg/stdcopy"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/pkg/jsonlog"
)

// pendingAttach is an attach session waiting for its container to start,
// so that it sees the output from the first byte (docker run attaches
// before it starts).
type pendingAttach struct {
	stdin, stdout, stderr bool
	ready                 chan attachConn
}

type attachConn struct {
	conn net.Conn
	r    *bufio.Reader
	err  error
}

// ContainerAttach connects the client's streams to the container's.
func (d *Daemon) ContainerAttach(ctx context.Context, name string, opts backend.AttachOptions) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	c.Lock()
	tty := c.Config.Tty
	stdinOnce := c.Config.StdinOnce
	openStdin := c.Config.OpenStdin
	c.Unlock()
	if !opts.Stdout && !opts.Stderr && !opts.Stdin {
		return fmt.Errorf("you must choose at least one stream: %w", errInvalid)
	}
	keys, err := detachKeys(opts.DetachKeys)
	if err != nil {
		return err
	}
	// Join the container's streams before the client learns that the
	// session is up (GetStreams answers 101): docker run starts the
	// container as soon as it has that answer, and the first output must
	// not be lost.
	wantStdin := opts.Stdin && openStdin
	var reg attachRegistration
	if opts.Stream {
		reg = d.registerAttach(ctx, c, wantStdin, opts.Stdout, opts.Stderr)
	}
	streams, err := opts.GetStreams(tty)
	if err != nil {
		d.cancelAttach(c, reg)
		return err
	}
	d.containerEvent(c, eventtypes.ActionAttach, nil)
	if streams.Stdin != nil {
		defer streams.Stdin.Close()
	}
	if opts.Logs && c.Log.Reads() {
		err := jsonlog.Read(ctx, c.LogPath(), jsonlog.ReadOptions{Tail: -1}, func(e jsonlog.Entry) error {
			switch {
			case e.Stream == "stdout" && opts.Stdout:
				_, err := io.WriteString(streams.Stdout, e.Log)
				return err
			case e.Stream == "stderr" && opts.Stderr:
				_, err := io.WriteString(streams.Stderr, e.Log)
				return err
			}
			return nil
		})
		if err != nil {
			d.cancelAttach(c, reg)
			return err
		}
	}
	if !opts.Stream {
		return nil
	}
	wantStdin = wantStdin && streams.Stdin != nil
	ac, err := d.awaitAttach(ctx, c, reg)
	if err != nil || ac.conn == nil {
		return err
	}
	defer ac.conn.Close()

	detached := make(chan struct{})
	if wantStdin {
		go func() {
			var in io.Reader = streams.Stdin
			if tty {
				// Docker watches for the detach keys on a TTY only.
				in = newEscapeReader(in, keys)
			}
			_, err := io.Copy(ac.conn, in)
			if errors.Is(err, errDetached) {
				close(detached)
				ac.conn.Close()
				return
			}
			if err == nil && stdinOnce {
				if cw, ok := ac.conn.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
			}
		}()
	}
	go func() {
		<-ctx.Done()
		ac.conn.Close()
	}()
	if tty {
		_, err := io.Copy(streams.Stdout, ac.r)
		select {
		case <-detached:
			return nil
		default:
		}
		return ignoreClosed(err)
	}
	_, err = stdcopy.StdCopy(streams.Stdout, streams.Stderr, ac.r)
	return ignoreClosed(err)
}

// attachRegistration is an attach session's place on the container's
// streams: a stream from the running container's shim, or a wait for the
// next start, or nothing when the container cannot be attached to.
type attachRegistration struct {
	now     *attachConn
	pending *pendingAttach
}

// registerAttach joins the container's streams: at once when it runs, at
// its start when it is created (or being started), not at all when it has
// exited.
func (d *Daemon) registerAttach(ctx context.Context, c *container.Container, stdin, stdout, stderr bool) attachRegistration {
	c.Lock()
	l := d.liveOf(c.ID)
	if c.State.IsRunning() && l.shim != nil {
		shim := l.shim
		c.Unlock()
		conn, r, err := shim.Attach(ctx, stdin, stdout, stderr)
		return attachRegistration{now: &attachConn{conn: conn, r: r, err: err}}
	}
	defer c.Unlock()
	if c.State.Status != containertypes.StateCreated && c.State.Status != containertypes.StateExited {
		return attachRegistration{}
	}
	p := &pendingAttach{stdin: stdin, stdout: stdout, stderr: stderr, ready: make(chan attachConn, 1)}
	l.pending = append(l.pending, p)
	return attachRegistration{pending: p}
}

// awaitAttach returns the registration's stream, waiting for the start of
// a container that is not running yet.
func (d *Daemon) awaitAttach(ctx context.Context, c *container.Container, reg attachRegistration) (attachConn, error) {
	switch {
	case reg.now != nil:
		return *reg.now, reg.now.err
	case reg.pending == nil:
		return attachConn{}, nil
	}
	select {
	case ac := <-reg.pending.ready:
		return ac, ac.err
	case <-ctx.Done():
		d.cancelAttach(c, reg)
		return attachConn{}, ctx.Err()
	}
}

// cancelAttach gives up a registration: a session that will not read its
// stream must not hold the container's output.
func (d *Daemon) cancelAttach(c *container.Container, reg attachRegistration) {
	if reg.now != nil && reg.now.conn != nil {
		reg.now.conn.Close()
	}
	p := reg.pending
	if p == nil {
		return
	}
	c.Lock()
	l := d.liveOf(c.ID)
	for i, q := range l.pending {
		if q == p {
			l.pending = append(l.pending[:i], l.pending[i+1:]...)
			break
		}
	}
	c.Unlock()
	select {
	case ac := <-p.ready:
		if ac.conn != nil {
			ac.conn.Close()
		}
	default:
	}
}

// connectPending gives every waiting attach session its stream, before the
// process starts. The caller holds c's lock.
func (d *Daemon) connectPending(ctx context.Context, c *container.Container, l *live) {
	for _, p := range l.pending {
		conn, r, err := l.shim.Attach(ctx, p.stdin, p.stdout, p.stderr)
		p.ready <- attachConn{conn: conn, r: r, err: err}
	}
	l.pending = nil
}

// failPending ends the waiting attach sessions of a start that failed.
func (d *Daemon) failPending(l *live, err error) {
	for _, p := range l.pending {
		p.ready <- attachConn{err: nil}
	}
	l.pending = nil
}

func ignoreClosed(err error) error {
	if err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// ContainerResize sets the terminal size of a container with a TTY.
func (d *Daemon) ContainerResize(ctx context.Context, name string, height, width uint) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	c.Lock()
	shim := d.liveOf(c.ID).shim
	running := c.State.IsRunning()
	c.Unlock()
	if !running || shim == nil {
		return fmt.Errorf("container %s is not running: %w", c.ID, errConflict)
	}
	return shim.Resize(ctx, height, width)
}
