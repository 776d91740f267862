package health

import (
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    *containertypes.HealthConfig
		shell []string
		want  Config
		ok    bool
	}{
		{name: "nil"},
		{name: "none", in: &containertypes.HealthConfig{Test: []string{"NONE"}}},
		{name: "empty", in: &containertypes.HealthConfig{}},
		{name: "cmd defaults", in: &containertypes.HealthConfig{Test: []string{"CMD", "true", "x"}}, ok: true,
			want: Config{Cmd: []string{"true", "x"}, Interval: 30 * time.Second, Timeout: 30 * time.Second, StartInterval: 5 * time.Second, Retries: 3}},
		{name: "shell", in: &containertypes.HealthConfig{Test: []string{"CMD-SHELL", "test -e /x"}, Interval: time.Second, Retries: 1, StartPeriod: time.Minute}, ok: true,
			want: Config{Cmd: []string{"/bin/sh", "-c", "test -e /x"}, Interval: time.Second, Timeout: 30 * time.Second, StartPeriod: time.Minute, StartInterval: 5 * time.Second, Retries: 1}},
		{name: "custom shell", in: &containertypes.HealthConfig{Test: []string{"CMD-SHELL", "ok"}}, shell: []string{"/bin/ash", "-ec"}, ok: true,
			want: Config{Cmd: []string{"/bin/ash", "-ec", "ok"}, Interval: 30 * time.Second, Timeout: 30 * time.Second, StartInterval: 5 * time.Second, Retries: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Resolve(tc.in, tc.shell)
			assert.Equal(t, ok, tc.ok)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	img := &containertypes.HealthConfig{Test: []string{"CMD", "img"}, Interval: time.Minute, Timeout: time.Second, Retries: 7}
	assert.DeepEqual(t, Merge(nil, img), img)
	assert.Check(t, Merge(nil, nil) == nil)
	got := Merge(&containertypes.HealthConfig{Interval: 2 * time.Second}, img)
	assert.DeepEqual(t, got, &containertypes.HealthConfig{Test: []string{"CMD", "img"}, Interval: 2 * time.Second, Timeout: time.Second, Retries: 7})
	got = Merge(&containertypes.HealthConfig{Test: []string{"NONE"}}, img)
	assert.DeepEqual(t, got.Test, []string{"NONE"})
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   containertypes.HealthConfig
		want string
	}{
		{in: containertypes.HealthConfig{Test: []string{"CMD", "x"}, Interval: time.Second}},
		{in: containertypes.HealthConfig{Interval: time.Microsecond}, want: "Interval in Healthcheck cannot be less than 1ms"},
		{in: containertypes.HealthConfig{Timeout: time.Microsecond}, want: "Timeout in Healthcheck cannot be less than 1ms"},
		{in: containertypes.HealthConfig{StartPeriod: time.Microsecond}, want: "StartPeriod in Healthcheck cannot be less than 1ms"},
		{in: containertypes.HealthConfig{StartInterval: time.Microsecond}, want: "StartInterval in Healthcheck cannot be less than 1ms"},
		{in: containertypes.HealthConfig{Retries: -1}, want: "Retries in Healthcheck cannot be negative"},
		{in: containertypes.HealthConfig{Test: []string{"BOGUS", "x"}}, want: `unknown Healthcheck type "BOGUS"`},
		{in: containertypes.HealthConfig{Test: []string{"CMD"}}, want: "Healthcheck CMD needs a command"},
	} {
		err := Validate(&tc.in)
		if tc.want == "" {
			assert.NilError(t, err)
			continue
		}
		assert.ErrorContains(t, err, tc.want)
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := Config{Retries: 2, StartPeriod: 10 * time.Second}
	h := Begin(nil)
	res := func(at time.Duration, code int) Result {
		return Result{Start: t0.Add(at), End: t0.Add(at), ExitCode: code}
	}
	// A failure within the start period does not count.
	assert.Check(t, !Record(h, cfg, res(time.Second, 1), t0))
	assert.Check(t, is.Equal(h.FailingStreak, 0))
	assert.Check(t, is.Equal(h.Status, containertypes.Starting))
	// After it, failures count: the second one makes it unhealthy.
	assert.Check(t, !Record(h, cfg, res(11*time.Second, 1), t0))
	assert.Check(t, is.Equal(h.FailingStreak, 1))
	assert.Check(t, Record(h, cfg, res(12*time.Second, 2), t0))
	assert.Check(t, is.Equal(h.Status, containertypes.Unhealthy))
	assert.Check(t, Record(h, cfg, res(13*time.Second, 0), t0))
	assert.Check(t, is.Equal(h.Status, containertypes.Healthy))
	assert.Check(t, is.Equal(h.FailingStreak, 0))
	// A failure of a healthy container counts even in the start period.
	h2 := &containertypes.Health{Status: containertypes.Healthy}
	assert.Check(t, !Record(h2, cfg, res(time.Second, 1), t0))
	assert.Check(t, is.Equal(h2.FailingStreak, 1))
	// The log keeps the last five.
	for i := 0; i < 7; i++ {
		Record(h, cfg, res(time.Duration(20+i)*time.Second, 0), t0)
	}
	assert.Check(t, is.Len(h.Log, MaxLogEntries))
	assert.Check(t, is.Equal(h.Log[4].Start, t0.Add(26*time.Second)))
	// A new run starts again, with the log kept.
	b := Begin(h)
	assert.Check(t, is.Equal(b.Status, containertypes.Starting))
	assert.Check(t, is.Len(b.Log, MaxLogEntries))
	End(b)
	assert.Check(t, is.Equal(b.Status, containertypes.Unhealthy))
}

func TestTruncateOutput(t *testing.T) {
	t.Parallel()
	assert.Equal(t, TruncateOutput([]byte("ok\n")), "ok\n")
	long := strings.Repeat("x", MaxOutputLen+10)
	got := TruncateOutput([]byte(long))
	assert.Equal(t, len(got), MaxOutputLen+3)
	assert.Check(t, strings.HasSuffix(got, "x..."))
}

func TestNextInterval(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	c := Config{Interval: 30 * time.Second, StartInterval: time.Second, StartPeriod: 10 * time.Second}
	assert.Equal(t, NextInterval(c, containertypes.Starting, t0, t0.Add(5*time.Second)), time.Second)
	assert.Equal(t, NextInterval(c, containertypes.Starting, t0, t0.Add(11*time.Second)), 30*time.Second)
	assert.Equal(t, NextInterval(c, containertypes.Healthy, t0, t0.Add(5*time.Second)), 30*time.Second)
	c.StartPeriod = 0
	assert.Equal(t, NextInterval(c, containertypes.Starting, t0, t0), 30*time.Second)
}

func TestStatusText(t *testing.T) {
	t.Parallel()
	assert.Equal(t, StatusText(nil), "")
	assert.Equal(t, StatusText(&containertypes.Health{Status: containertypes.Starting}), "health: starting")
	assert.Equal(t, StatusText(&containertypes.Health{Status: containertypes.Healthy}), "healthy")
	assert.Equal(t, StatusText(&containertypes.Health{Status: containertypes.Unhealthy}), "unhealthy")
}
