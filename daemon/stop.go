package daemon

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/sys/signal"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/shimclient"
)

const defaultStopTimeout = 10

// ContainerStop sends the stop signal, waits up to the timeout, then kills.
// A stop goes on to the end when the client that asked for it goes away.
func (d *Daemon) ContainerStop(ctx context.Context, name string, timeout *int, signal string) error {
	ctx = context.WithoutCancel(ctx)
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	if err := d.stop(ctx, c, timeout, signal); err != nil {
		return err
	}
	d.containerEvent(c, eventtypes.ActionStop, nil)
	return nil
}

func (d *Daemon) stop(ctx context.Context, c *container.Container, timeout *int, signal string) error {
	c.Lock()
	if c.State.Status == containertypes.StateRestarting {
		// Waiting for its restart: the stop cancels it, as in Docker.
		defer c.Unlock()
		l := d.liveOf(c.ID)
		l.stopping = true
		if err := c.State.Transition(containertypes.StateExited); err != nil {
			return err
		}
		d.notify(l, c, false)
		return c.ToDisk()
	}
	if !c.State.IsRunning() {
		c.Unlock()
		return fmt.Errorf("container %s is already stopped: %w", c.ID, errdefs.ErrNotModified)
	}
	l := d.liveOf(c.ID)
	shim, exited := l.shim, l.exited
	l.stopping = true
	paused := c.State.Status == containertypes.StatePaused
	if signal == "" {
		signal = c.Config.StopSignal
	}
	if signal == "" {
		signal = "TERM"
	}
	wait := defaultStopTimeout
	if c.Config.StopTimeout != nil {
		wait = *c.Config.StopTimeout
	}
	if timeout != nil {
		wait = *timeout
	}
	c.Unlock()
	if shim == nil {
		return fmt.Errorf("container %s: %w", c.ID, errShimGone)
	}
	sig, err := parseSignal(signal)
	if err != nil {
		return err
	}
	if paused {
		sig = unix.SIGKILL
	}
	if err := d.signal(ctx, c, shim, sig, false); err != nil {
		d.log.Warn("stop signal", "container", c.ID, "err", err)
	}
	if paused {
		_ = shim.Resume(ctx)
	}
	if wait >= 0 {
		select {
		case <-exited:
			return nil
		case <-time.After(time.Duration(wait) * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := d.signal(ctx, c, shim, unix.SIGKILL, true); err != nil {
			d.log.Warn("kill after stop timeout", "container", c.ID, "err", err)
		}
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ContainerKill sends a signal to the container's main process. A SIGKILL
// returns once the container is marked exited, as in Docker, so that a
// remove right after it finds the container stopped. A paused container
// is thawed after a SIGKILL, as in Docker: on cgroup v1 a frozen process
// dies only once thawed, and only runc thaws it itself (crun does not).
func (d *Daemon) ContainerKill(ctx context.Context, name, signal string) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	if signal == "" {
		signal = "KILL"
	}
	sig, err := parseSignal(signal)
	if err != nil {
		return err
	}
	c.Lock()
	if !c.State.IsRunning() {
		c.Unlock()
		return fmt.Errorf("cannot kill container: %s: container %s is not running: %w", name, c.ID, errConflict)
	}
	l := d.liveOf(c.ID)
	shim, exited := l.shim, l.exited
	paused := c.State.Status == containertypes.StatePaused
	if sig == unix.SIGKILL {
		l.stopping = true
	}
	c.Unlock()
	if shim == nil {
		return fmt.Errorf("container %s: %w", c.ID, errShimGone)
	}
	if err := d.signal(ctx, c, shim, sig, false); err != nil || sig != unix.SIGKILL {
		return err
	}
	if paused {
		// Fails where the runtime thawed it and it is gone already.
		_ = shim.Resume(ctx)
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signal sends sig through the shim. The kill event goes out first: a
// process that dies at once would otherwise report its die before the
// kill that caused it.
func (d *Daemon) signal(ctx context.Context, c *container.Container, shim *shimclient.Client, sig syscall.Signal, all bool) error {
	num := strconv.Itoa(int(sig))
	// Docker's kill events show the signal's number.
	d.containerEvent(c, eventtypes.ActionKill, map[string]string{"signal": num})
	return shim.Kill(ctx, num, all)
}

// ContainerRestart stops the container if it runs, then starts it. It goes
// on to the end when the client goes away, and the stop does not remove an
// AutoRemove container, as in Docker.
func (d *Daemon) ContainerRestart(ctx context.Context, name string, timeout *int) error {
	ctx = context.WithoutCancel(ctx)
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	c.Lock()
	l := d.liveOf(c.ID)
	l.restarting = true
	c.Unlock()
	defer func() {
		c.Lock()
		l.restarting = false
		c.Unlock()
	}()
	switch err := d.stop(ctx, c, timeout, ""); {
	case err == nil:
		d.containerEvent(c, eventtypes.ActionStop, nil)
	case !errdefs.IsNotModified(err):
		return err
	}
	// RestartCount counts restarts by policy only, as in Docker.
	if err := d.start(ctx, c); err != nil {
		return err
	}
	d.containerEvent(c, eventtypes.ActionRestart, nil)
	return nil
}

// ContainerPause freezes the container's processes.
func (d *Daemon) ContainerPause(ctx context.Context, name string) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	c.Lock()
	defer c.Unlock()
	switch c.State.Status {
	case containertypes.StateRunning:
	case containertypes.StatePaused:
		return fmt.Errorf("container %s is already paused: %w", c.ID, errConflict)
	default:
		return fmt.Errorf("container %s is not running: %w", c.ID, errConflict)
	}
	shim := d.liveOf(c.ID).shim
	if shim == nil {
		return errShimGone
	}
	if err := shim.Pause(ctx); err != nil {
		return err
	}
	if err := c.State.Transition(containertypes.StatePaused); err != nil {
		return err
	}
	if err := c.ToDisk(); err != nil {
		return err
	}
	d.containerEvent(c, eventtypes.ActionPause, nil)
	return nil
}

// ContainerUnpause thaws a paused container.
func (d *Daemon) ContainerUnpause(ctx context.Context, name string) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	c.Lock()
	defer c.Unlock()
	if c.State.Status != containertypes.StatePaused {
		return fmt.Errorf("container %s is not paused: %w", c.ID, errConflict)
	}
	shim := d.liveOf(c.ID).shim
	if shim == nil {
		return errShimGone
	}
	if err := shim.Resume(ctx); err != nil {
		return err
	}
	if err := c.State.Transition(containertypes.StateRunning); err != nil {
		return err
	}
	if err := c.ToDisk(); err != nil {
		return err
	}
	d.containerEvent(c, eventtypes.ActionUnPause, nil)
	return nil
}

// parseSignal accepts what Docker accepts ("TERM", "SIGTERM", "sigterm",
// "15", "RTMIN+3") and refuses signals Linux does not have.
func parseSignal(s string) (syscall.Signal, error) {
	sig, err := signal.ParseSignal(s)
	if err != nil || !signal.ValidSignalForPlatform(sig) {
		return 0, fmt.Errorf("invalid signal: %s: %w", s, errInvalid)
	}
	return sig, nil
}
