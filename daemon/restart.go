package daemon

import (
	"context"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/container"
)

// shouldRestart applies the container's restart policy to an exit: a
// container a user stopped is never restarted; on-failure counts retries.
func shouldRestart(policy containertypes.RestartPolicy, exitCode, restarts int, stoppedByUser bool) bool {
	if stoppedByUser {
		return false
	}
	switch policy.Name {
	case containertypes.RestartPolicyAlways, containertypes.RestartPolicyUnlessStopped:
		return true
	case containertypes.RestartPolicyOnFailure:
		return exitCode != 0 && (policy.MaximumRetryCount == 0 || restarts < policy.MaximumRetryCount)
	}
	return false
}

// restartDelay is Docker's back-off: 100 ms doubling per restart, at most
// a minute.
func restartDelay(restarts int) time.Duration {
	d := 100 * time.Millisecond
	for i := 0; i < restarts && d < time.Minute; i++ {
		d *= 2
	}
	if d > time.Minute {
		d = time.Minute
	}
	return d
}

// scheduleRestart starts c again after the back-off, unless the daemon
// stops or somebody stops or removes the container meanwhile.
func (d *Daemon) scheduleRestart(c *container.Container, l *live) {
	c.Lock()
	delay := restartDelay(c.RestartCount)
	c.Unlock()
	d.monitors.Add(1)
	go func() {
		defer d.monitors.Done()
		select {
		case <-time.After(delay):
		case <-d.ctx.Done():
			return
		}
		c.Lock()
		skip := l.stopping || c.State.Status != containertypes.StateRestarting
		if !skip {
			c.RestartCount++
		}
		c.Unlock()
		if skip {
			return
		}
		if _, err := d.containers.Get(c.ID); err != nil {
			return
		}
		if err := d.start(context.Background(), c); err != nil {
			d.log.Warn("restart by policy failed", "container", c.ID, "err", err)
			c.Lock()
			if c.State.Status == containertypes.StateRestarting {
				_ = c.State.Transition(containertypes.StateExited)
				_ = c.ToDisk()
			}
			c.Unlock()
		}
	}()
}
