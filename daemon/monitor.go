package daemon

import (
	"context"
	"errors"
	"os"
	"strconv"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/shim"
	"github.com/berth-project/berth/daemon/shimclient"
	"github.com/berth-project/berth/pkg/runtrace"
)

// waiter is one ContainerWait call waiting for its condition.
type waiter struct {
	cond containertypes.WaitCondition
	ch   chan containertypes.WaitResponse
}

// monitor waits, in the background, for the end of the run that the shim
// supervises (wait, sent to the shim with d.ctx), and records it.
func (d *Daemon) monitor(c *container.Container, l *live, wait *shimclient.PendingWait, exited chan struct{}) {
	d.monitors.Add(1)
	go func() {
		defer d.monitors.Done()
		exit, err := wait.Result()
		if d.ctx.Err() != nil {
			return // the daemon is stopping; the next one takes over
		}
		if err != nil {
			d.log.Debug("no exit from the shim, reading its record", "container", c.ID, "err", err)
			exit = d.exitAfterShimLoss(c)
		}
		d.handleExit(c, l, exit, exited)
	}()
}

// exitAfterShimLoss reads the exit the shim recorded before it went, or
// reports the run as lost.
func (d *Daemon) exitAfterShimLoss(c *container.Container) *shim.Exit {
	// A shim killed after it recorded the exit may not have deleted the
	// runtime's state yet: clear what is left either way.
	d.deleteOrphanedRun(c.ID)
	if e, err := shimclient.ReadExit(c.ExitPath()); err == nil {
		// The shim saw the end and went (a quick container may be done
		// before the daemon asks): nothing was lost.
		return e
	}
	return &shim.Exit{Code: 255, ExitedAt: time.Now().UTC().Format(time.RFC3339Nano), Error: errShimGone.Error()}
}

// handleExit records the end of a run, wakes the waiters and applies
// --rm.
func (d *Daemon) handleExit(c *container.Container, l *live, exit *shim.Exit, exited chan struct{}) {
	runtrace.Mark("exit received")
	at, err := time.Parse(time.RFC3339Nano, exit.ExitedAt)
	if err != nil {
		at = time.Now().UTC()
	}
	c.Lock()
	d.stopHealth(c, l)
	autoRemove := c.HostConfig.AutoRemove && !l.restarting
	restart := !autoRemove && shouldRestart(c.HostConfig.RestartPolicy, exit.Code, c.RestartCount, l.stopping)
	if c.State.IsRunning() {
		// A container the policy restarts is restarting until then, as
		// in Docker, not exited.
		record := c.State.SetExited
		if restart {
			record = c.State.SetRestarting
		}
		if err := record(exit.Code, at, exit.Error); err != nil {
			d.log.Error("record exit", "container", c.ID, "err", err)
		}
		c.State.OOMKilled = exit.OOMKilled
		// A container removed next is not written first: until its
		// directory is renamed away, the exit file the shim wrote stays,
		// and a daemon that dies before that reads the exit from it at
		// restore, and removes the container then.
		if !autoRemove {
			if err := c.ToDisk(); err != nil {
				d.log.Error("persist exit", "container", c.ID, "err", err)
			}
		}
	}
	runtrace.Mark("exit persisted")
	d.retireShim(c, l)
	if !autoRemove {
		os.Remove(c.ExitPath())
	}
	d.notify(l, c, false)
	// After the waiters: `run` returns without waiting for DEL; c's lock
	// keeps a restart or inspect from seeing it half done.
	d.networkDown(c)
	// Docker's unmount events come before die: its cleanup of the run
	// precedes the die event.
	d.releaseVolumes(c, true)
	c.Unlock()
	// Before the stop it may end: Docker reports die, then stop.
	d.containerEvent(c, eventtypes.ActionDie, map[string]string{"exitCode": strconv.Itoa(exit.Code)})
	if exited != nil {
		close(exited)
	}
	d.log.Info("container exited", "container", c.ID, "code", exit.Code)
	if restart {
		d.scheduleRestart(c, l)
	}
	if autoRemove {
		d.crashPoint("before-autoremove")
		runtrace.Mark("remove begin")
		defer runtrace.Mark("remove end")
		if err := d.remove(context.Background(), c, false, true); err != nil && !errors.Is(err, errNotFound) {
			d.log.Error("auto-remove", "container", c.ID, "err", err)
		}
	}
}

// notify wakes the waiters whose condition now holds: on an exit those for
// not-running and next-exit, on removal all. The caller holds c's lock.
func (d *Daemon) notify(l *live, c *container.Container, removed bool) {
	resp := containertypes.WaitResponse{StatusCode: int64(c.State.ExitCode)}
	if c.State.Error != "" {
		resp.Error = &containertypes.WaitExitError{Message: c.State.Error}
	}
	var keep []*waiter
	for _, w := range l.waiters {
		if removed || w.cond != containertypes.WaitConditionRemoved {
			w.ch <- resp
			continue
		}
		keep = append(keep, w)
	}
	l.waiters = keep
}

// ContainerWait registers a wait; the channel delivers when the condition
// holds.
func (d *Daemon) ContainerWait(ctx context.Context, name string, cond containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	if cond == "" {
		cond = containertypes.WaitConditionNotRunning
	}
	ch := make(chan containertypes.WaitResponse, 1)
	c.Lock()
	defer c.Unlock()
	if _, err := d.containers.Get(c.ID); err != nil {
		// Removed since the lookup (a --rm container right after its
		// exit): its waiters were woken already, this one would never be.
		ch <- containertypes.WaitResponse{StatusCode: int64(c.State.ExitCode)}
		return ch, nil
	}
	if cond == containertypes.WaitConditionNotRunning && !c.State.IsRunning() && c.State.Status != containertypes.StateRestarting {
		ch <- containertypes.WaitResponse{StatusCode: int64(c.State.ExitCode)}
		return ch, nil
	}
	l := d.liveOf(c.ID)
	l.waiters = append(l.waiters, &waiter{cond: cond, ch: ch})
	return ch, nil
}

// retireShim forgets the shim of a finished run and removes its state
// directory once the shim process has gone: a shim reports the exit first
// and deletes the runtime's state after, off the path of `run --rm`. The
// caller holds c's lock.
func (d *Daemon) retireShim(c *container.Container, l *live) {
	prev := l.shim
	l.shim = nil
	if prev == nil {
		d.cleanupShimDir(c.ID)
		return
	}
	l.prev = prev
	go func() {
		prev.WaitGone(10 * time.Second)
		c.Lock()
		defer c.Unlock()
		if l.prev == prev {
			l.prev = nil
			d.cleanupShimDir(c.ID)
		}
	}()
}

// awaitPreviousShim makes sure the last run's shim is gone before a new
// run of the same container; the caller holds c's lock.
func (d *Daemon) awaitPreviousShim(l *live) {
	if l.prev != nil {
		l.prev.WaitGone(10 * time.Second)
		l.prev = nil
	}
}
