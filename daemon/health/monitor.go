package health

import (
	"context"
	"errors"
	"fmt"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
)

// Clock is the scheduler's time source; the daemon uses RealClock, tests
// a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the system clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Probe runs the check's command once in the container and returns its
// exit code and output. ctx ends when the check times out or stops; the
// probe then ends the process.
type Probe func(ctx context.Context, cmd []string) (exitCode int, output []byte, err error)

// ErrSkip is what a probe returns when the check cannot run now (the
// container is paused): no result is recorded.
var ErrSkip = errors.New("health check skipped")

// Monitor schedules the probes of one run of a container.
type Monitor struct {
	Config    Config
	Clock     Clock
	StartedAt time.Time
	Probe     Probe
	// Record applies a result to the container's health and returns the
	// status it now has (which chooses the next interval).
	Record func(Result) containertypes.HealthStatus
}

// Run probes until ctx ends: the first probe after one interval (as
// Docker), each next one an interval after the previous one ended.
func (m *Monitor) Run(ctx context.Context) {
	status := containertypes.Starting
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.Clock.After(NextInterval(m.Config, status, m.StartedAt, m.Clock.Now())):
		}
		r, ok := m.probeOnce(ctx)
		if ctx.Err() != nil {
			return // stopped while probing: the result says nothing
		}
		if ok {
			status = m.Record(r)
		}
	}
}

// probeOnce runs the probe with the check's timeout; false when skipped.
func (m *Monitor) probeOnce(ctx context.Context) (Result, bool) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		code int
		out  []byte
		err  error
	}
	done := make(chan outcome, 1)
	start := m.Clock.Now()
	go func() {
		code, out, err := m.Probe(pctx, m.Config.Cmd)
		done <- outcome{code, out, err}
	}()
	select {
	case o := <-done:
		if errors.Is(o.err, ErrSkip) {
			return Result{}, false
		}
		r := Result{Start: start, End: m.Clock.Now(), ExitCode: o.code, Output: TruncateOutput(o.out)}
		if o.err != nil {
			r.ExitCode, r.Output = -1, TruncateOutput([]byte(o.err.Error()))
		}
		return r, true
	case <-m.Clock.After(m.Config.Timeout):
		cancel()
		return Result{Start: start, End: m.Clock.Now(), ExitCode: -1, Output: fmt.Sprintf("Health check exceeded timeout (%v)", m.Config.Timeout)}, true
	case <-ctx.Done():
		return Result{}, false
	}
}
