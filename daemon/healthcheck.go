package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/health"
	"github.com/berth-project/berth/daemon/shim"
)

// startHealth starts the health checks of c's current run, if it has a
// check. fresh is a new run (the health starts over: starting, no
// streak); a run adopted at restore keeps the health it had. The caller
// holds c's lock.
func (d *Daemon) startHealth(c *container.Container, l *live, fresh bool) {
	cfg, ok := health.Resolve(c.Config.Healthcheck, c.Config.Shell)
	if !ok {
		return
	}
	if l.healthStop != nil {
		l.healthStop()
	}
	if fresh || c.State.Health == nil {
		c.State.Health = health.Begin(c.State.Health)
	}
	ctx, cancel := context.WithCancel(d.ctx)
	l.healthStop = cancel
	m := &health.Monitor{
		Config:    cfg,
		Clock:     health.RealClock{},
		StartedAt: c.State.StartedAt,
		Probe:     func(pctx context.Context, cmd []string) (int, []byte, error) { return d.probe(pctx, c, cmd) },
		Record:    func(r health.Result) containertypes.HealthStatus { return d.recordHealth(ctx, c, cfg, r) },
	}
	d.monitors.Add(1)
	go func() {
		defer d.monitors.Done()
		m.Run(ctx)
	}()
}

// stopHealth ends the health checks of c's run; the health becomes
// unhealthy, as Docker reports a stopped container's. The caller holds
// c's lock and persists.
func (d *Daemon) stopHealth(c *container.Container, l *live) {
	if l.healthStop != nil {
		l.healthStop()
		l.healthStop = nil
	}
	// Also for a run that ended while no daemon watched it.
	health.End(c.State.Health)
}

// recordHealth applies a probe's result to c and publishes a change of
// status as a health_status event.
func (d *Daemon) recordHealth(ctx context.Context, c *container.Container, cfg health.Config, r health.Result) containertypes.HealthStatus {
	c.Lock()
	h := c.State.Health
	// ctx ends, under c's lock, when the run's checks stop: a result
	// that comes after belongs to a run that is over.
	if ctx.Err() != nil || h == nil {
		c.Unlock()
		return containertypes.Unhealthy
	}
	changed := health.Record(h, cfg, r, c.State.StartedAt)
	status := h.Status
	if err := c.ToDisk(); err != nil {
		d.log.Warn("persist health", "container", c.ID, "err", err)
	}
	c.Unlock()
	if changed {
		d.containerEvent(c, eventtypes.Action(string(eventtypes.ActionHealthStatus)+": "+string(status)), nil)
	}
	return status
}

// probe runs a health check's command in c, as an exec process with the
// container's own user, environment and working directory, and returns
// its exit code and (start of its) output. When ctx ends first (the
// check timed out or stops), the process is killed.
func (d *Daemon) probe(ctx context.Context, c *container.Container, cmd []string) (int, []byte, error) {
	c.Lock()
	status := c.State.Status
	sc := d.liveOf(c.ID).shim
	c.Unlock()
	if status == containertypes.StatePaused {
		return 0, nil, health.ErrSkip
	}
	if status != containertypes.StateRunning || sc == nil {
		return -1, nil, fmt.Errorf("container %s is not running", c.ID)
	}
	proc, err := d.execProcess(c, &containertypes.ExecCreateRequest{Cmd: cmd})
	if err != nil {
		return -1, nil, err
	}
	// A probe is an exec as far as events go, as in Docker: exec_create,
	// exec_start and exec_die (with the exit code when there is one).
	eid := newID()
	attrs := map[string]string{"execID": eid}
	d.containerEvent(c, execAction(eventtypes.ActionExecCreate, cmd), attrs)
	conn, r, err := sc.Exec(ctx, eid, proc, shim.ExecOptions{Stdout: true, Stderr: true})
	if err != nil {
		return -1, nil, err
	}
	d.containerEvent(c, execAction(eventtypes.ActionExecStart, cmd), attrs)
	dieCode := "137" // killed at its timeout, as Docker reports it
	defer func() {
		d.containerEvent(c, eventtypes.ActionExecDie, map[string]string{"execID": eid, "exitCode": dieCode})
	}()
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() {
		// The shim has no exec kill: end the process by its host pid.
		st, err := sc.ExecState(context.Background(), eid)
		if err == nil && st.ExitCode == nil && st.Pid > 0 {
			_ = unix.Kill(st.Pid, unix.SIGKILL)
		}
		conn.Close()
	})
	defer stop()
	out := &limitedBuffer{max: health.MaxOutputLen + 1}
	_, _ = stdcopy.StdCopy(out, out, r)
	// Not ctx: a probe that timed out was killed above, and the wait also
	// makes the shim forget the process.
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := sc.ExecWait(wctx, eid)
	if ctx.Err() != nil {
		return -1, nil, ctx.Err()
	}
	if err != nil {
		return -1, nil, err
	}
	if st.ExitCode == nil {
		return -1, nil, fmt.Errorf("health check process of %s: no exit code", c.ID)
	}
	dieCode = strconv.Itoa(*st.ExitCode)
	return *st.ExitCode, out.Bytes(), nil
}

// limitedBuffer keeps the first max bytes written to it and discards the
// rest: a check's output is only shown truncated, and a hostile container
// must not fill the daemon's memory.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

var _ io.Writer = (*limitedBuffer)(nil)
