package health

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// fakeClock fires its timers only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	cond    *sync.Cond
	now     time.Time
	waiters []*fakeTimer
}

type fakeTimer struct {
	at time.Time
	d  time.Duration
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	c := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), d: d, ch: make(chan time.Time, 1)}
	c.waiters = append(c.waiters, t)
	c.cond.Broadcast()
	return t.ch
}

// advanceWhen waits until a timer of duration d is pending, then moves the
// time by d and fires every timer due.
func (c *fakeClock) advanceWhen(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.pending(d) {
		c.cond.Wait()
	}
	c.now = c.now.Add(d)
	keep := c.waiters[:0]
	for _, t := range c.waiters {
		if !t.at.After(c.now) {
			t.ch <- c.now
			continue
		}
		keep = append(keep, t)
	}
	c.waiters = keep
}

func (c *fakeClock) pending(d time.Duration) bool {
	for _, t := range c.waiters {
		if t.d == d {
			return true
		}
	}
	return false
}

type scripted struct {
	skip bool
	code int
	out  string
	err  error
	hang bool // block until the probe's context ends
}

func startMonitor(t *testing.T, cfg Config, clk *fakeClock, script []scripted) (<-chan Result, <-chan error, context.CancelFunc) {
	t.Helper()
	results := make(chan Result, len(script)+1)
	cancelled := make(chan error, len(script)+1)
	var mu sync.Mutex
	i := 0
	h := Begin(nil)
	m := &Monitor{
		Config: cfg, Clock: clk, StartedAt: clk.Now(),
		Probe: func(ctx context.Context, cmd []string) (int, []byte, error) {
			mu.Lock()
			s := script[i]
			i++
			mu.Unlock()
			if s.skip {
				return 0, nil, ErrSkip
			}
			if s.hang {
				<-ctx.Done()
				cancelled <- ctx.Err()
				return 0, nil, ctx.Err()
			}
			return s.code, []byte(s.out), s.err
		},
		Record: func(r Result) containertypes.HealthStatus {
			Record(h, cfg, r, clk.Now())
			results <- r
			return h.Status
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return results, cancelled, cancel
}

func TestMonitorSchedulesProbes(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	cfg := Config{Cmd: []string{"check"}, Interval: 10 * time.Second, Timeout: 3 * time.Second, Retries: 2}
	results, _, _ := startMonitor(t, cfg, clk, []scripted{{code: 0, out: "fine"}, {skip: true}, {code: 1}, {err: errors.New("exec failed")}})
	t0 := clk.Now()

	clk.advanceWhen(10 * time.Second)
	r := <-results
	assert.Check(t, is.Equal(r.ExitCode, 0))
	assert.Check(t, is.Equal(r.Output, "fine"))
	assert.Check(t, is.Equal(r.Start, t0.Add(10*time.Second)))

	// A skipped probe (paused container) records nothing.
	clk.advanceWhen(10 * time.Second)
	clk.advanceWhen(10 * time.Second)
	r = <-results
	assert.Check(t, is.Equal(r.ExitCode, 1))
	assert.Check(t, is.Equal(r.Start, t0.Add(30*time.Second)))

	clk.advanceWhen(10 * time.Second)
	r = <-results
	assert.Check(t, is.Equal(r.ExitCode, -1))
	assert.Check(t, is.Equal(r.Output, "exec failed"))
}

func TestMonitorTimeout(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	cfg := Config{Cmd: []string{"check"}, Interval: 10 * time.Second, Timeout: 3 * time.Second, Retries: 1}
	results, cancelled, _ := startMonitor(t, cfg, clk, []scripted{{hang: true}, {code: 0}})
	clk.advanceWhen(10 * time.Second)
	clk.advanceWhen(3 * time.Second)
	r := <-results
	assert.Check(t, is.Equal(r.ExitCode, -1))
	assert.Check(t, is.Equal(r.Output, "Health check exceeded timeout (3s)"))
	assert.Check(t, is.ErrorIs(<-cancelled, context.Canceled), "the timed-out probe is told to end")
	clk.advanceWhen(10 * time.Second)
	assert.Check(t, is.Equal((<-results).ExitCode, 0))
}

func TestMonitorStartInterval(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	cfg := Config{Cmd: []string{"check"}, Interval: 30 * time.Second, Timeout: 3 * time.Second, StartPeriod: 10 * time.Second, StartInterval: 2 * time.Second, Retries: 1}
	results, _, _ := startMonitor(t, cfg, clk, []scripted{{code: 1}, {code: 0}, {code: 0}})
	t0 := clk.Now()
	// Starting within the start period: probes every StartInterval.
	clk.advanceWhen(2 * time.Second)
	assert.Check(t, is.Equal((<-results).Start, t0.Add(2*time.Second)))
	clk.advanceWhen(2 * time.Second)
	assert.Check(t, is.Equal((<-results).Start, t0.Add(4*time.Second)))
	// Healthy now: the normal interval.
	clk.advanceWhen(30 * time.Second)
	assert.Check(t, is.Equal((<-results).Start, t0.Add(34*time.Second)))
}

func TestMonitorStops(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	cfg := Config{Cmd: []string{"check"}, Interval: 10 * time.Second, Timeout: 3 * time.Second, Retries: 1}
	results, cancelled, cancel := startMonitor(t, cfg, clk, []scripted{{hang: true}})
	clk.advanceWhen(10 * time.Second)
	cancel()
	assert.Check(t, is.ErrorIs(<-cancelled, context.Canceled))
	select {
	case r := <-results:
		t.Fatalf("a stopped monitor recorded %+v", r)
	default:
	}
}
