// Package health runs a container's health check as Docker does: it
// resolves Config.Healthcheck with Docker's defaults, schedules the probes
// and turns their results into the container's State.Health (status,
// failing streak, the last five results). The state logic is pure; the
// scheduler takes a clock and a probe function, so both are tested without
// a container. The daemon provides the probe (an exec in the container).
package health

import (
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
)

// Docker's defaults and limits.
const (
	DefaultInterval      = 30 * time.Second
	DefaultTimeout       = 30 * time.Second
	DefaultStartInterval = 5 * time.Second
	DefaultRetries       = 3
	// MaxLogEntries is how many results State.Health.Log keeps.
	MaxLogEntries = 5
	// MaxOutputLen is where a probe's output is cut.
	MaxOutputLen = 4096
	// minimumDuration is the smallest interval, timeout or period a
	// request may set (Docker's containertypes.MinimumDuration).
	minimumDuration = time.Millisecond
)

// Exit codes of a probe: 0 healthy, 1 unhealthy, anything else an error
// that counts as unhealthy; -1 is a probe that could not run or timed out.
const (
	ExitHealthy   = 0
	ExitUnhealthy = 1
)

// Config is a resolved health check.
type Config struct {
	// Cmd is the command to exec: CMD's arguments, or the shell with
	// CMD-SHELL's command.
	Cmd           []string
	Interval      time.Duration
	Timeout       time.Duration
	StartPeriod   time.Duration
	StartInterval time.Duration
	Retries       int
}

// Merge applies the image's health check to the request's, field by
// field, as Docker does at create.
func Merge(req, img *containertypes.HealthConfig) *containertypes.HealthConfig {
	if img == nil {
		return req
	}
	if req == nil {
		c := *img
		c.Test = append([]string(nil), img.Test...)
		return &c
	}
	c := *req
	if len(c.Test) == 0 {
		c.Test = append([]string(nil), img.Test...)
	}
	if c.Interval == 0 {
		c.Interval = img.Interval
	}
	if c.Timeout == 0 {
		c.Timeout = img.Timeout
	}
	if c.StartPeriod == 0 {
		c.StartPeriod = img.StartPeriod
	}
	if c.StartInterval == 0 {
		c.StartInterval = img.StartInterval
	}
	if c.Retries == 0 {
		c.Retries = img.Retries
	}
	return &c
}

// Validate checks a request's health check with Docker's messages.
func Validate(h *containertypes.HealthConfig) error {
	if h == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Interval", h.Interval}, {"Timeout", h.Timeout}, {"StartPeriod", h.StartPeriod}, {"StartInterval", h.StartInterval}} {
		if d.v != 0 && d.v < minimumDuration {
			return fmt.Errorf("%s in Healthcheck cannot be less than %s: %w", d.name, minimumDuration, errdefs.ErrInvalidArgument)
		}
	}
	if h.Retries < 0 {
		return fmt.Errorf("Retries in Healthcheck cannot be negative: %w", errdefs.ErrInvalidArgument)
	}
	if len(h.Test) > 0 {
		switch h.Test[0] {
		case "NONE", "CMD", "CMD-SHELL":
		default:
			return fmt.Errorf("unknown Healthcheck type %q (use CMD, CMD-SHELL or NONE): %w", h.Test[0], errdefs.ErrInvalidArgument)
		}
		if h.Test[0] != "NONE" && len(h.Test) < 2 {
			return fmt.Errorf("Healthcheck %s needs a command: %w", h.Test[0], errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// Resolve returns the check to run, with Docker's defaults, or false when
// the container has none (no Test, or NONE). shell is the container's
// Config.Shell (nil: /bin/sh -c).
func Resolve(h *containertypes.HealthConfig, shell []string) (Config, bool) {
	if h == nil || len(h.Test) < 2 || h.Test[0] == "NONE" {
		return Config{}, false
	}
	c := Config{
		Interval:      orDefault(h.Interval, DefaultInterval),
		Timeout:       orDefault(h.Timeout, DefaultTimeout),
		StartPeriod:   h.StartPeriod,
		StartInterval: orDefault(h.StartInterval, DefaultStartInterval),
		Retries:       h.Retries,
	}
	if c.Retries <= 0 {
		c.Retries = DefaultRetries
	}
	switch h.Test[0] {
	case "CMD":
		c.Cmd = append([]string(nil), h.Test[1:]...)
	case "CMD-SHELL":
		if len(shell) == 0 {
			shell = []string{"/bin/sh", "-c"}
		}
		c.Cmd = append(append([]string(nil), shell...), h.Test[1])
	default:
		return Config{}, false
	}
	return c, true
}

func orDefault(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// Result is the outcome of one probe.
type Result struct {
	Start, End time.Time
	ExitCode   int
	Output     string
}

// TruncateOutput cuts a probe's output at MaxOutputLen, marking the cut
// with "..." as Docker does.
func TruncateOutput(out []byte) string {
	if len(out) > MaxOutputLen {
		return string(out[:MaxOutputLen]) + "..."
	}
	return string(out)
}

// Begin is the health of a container whose run just started: starting,
// no failing streak, the log of earlier runs kept (as Docker does).
func Begin(prev *containertypes.Health) *containertypes.Health {
	h := &containertypes.Health{Status: containertypes.Starting}
	if prev != nil {
		h.Log = append([]*containertypes.HealthcheckResult(nil), prev.Log...)
	}
	return h
}

// End is the health of a container whose checks stopped because its run
// ended: unhealthy, as Docker reports it.
func End(h *containertypes.Health) {
	if h != nil {
		h.Status = containertypes.Unhealthy
	}
}

// Record applies one result to h, as Docker's handleProbeResult: success
// makes the container healthy and resets the streak; a failure counts
// towards Retries, except while the container is still starting within
// its start period. startedAt is when the container's run started. It
// reports whether the status changed.
func Record(h *containertypes.Health, c Config, r Result, startedAt time.Time) bool {
	old := h.Status
	h.Log = append(h.Log, &containertypes.HealthcheckResult{Start: r.Start, End: r.End, ExitCode: r.ExitCode, Output: r.Output})
	if n := len(h.Log); n > MaxLogEntries {
		h.Log = append([]*containertypes.HealthcheckResult(nil), h.Log[n-MaxLogEntries:]...)
	}
	if r.ExitCode == ExitHealthy {
		h.FailingStreak = 0
		h.Status = containertypes.Healthy
		return h.Status != old
	}
	if h.Status == containertypes.Starting && r.Start.Sub(startedAt) < c.StartPeriod {
		return false // failures in the start period do not count
	}
	h.FailingStreak++
	if h.FailingStreak >= c.Retries {
		h.Status = containertypes.Unhealthy
	}
	return h.Status != old
}

// NextInterval is the wait before the next probe: StartInterval while the
// container is starting within its start period, else Interval.
func NextInterval(c Config, status containertypes.HealthStatus, startedAt, now time.Time) time.Duration {
	if status == containertypes.Starting && c.StartPeriod > 0 && now.Sub(startedAt) < c.StartPeriod {
		return c.StartInterval
	}
	return c.Interval
}

// StatusText is the health's part of `ps`' status: "healthy",
// "unhealthy" or "health: starting".
func StatusText(h *containertypes.Health) string {
	if h == nil {
		return ""
	}
	if h.Status == containertypes.Starting {
		return "health: starting"
	}
	return string(h.Status)
}
