package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// inspectHealth returns the container's State.Health.
func inspectHealth(t *testing.T, d *harness.Daemon, name string) *containertypes.Health {
	t.Helper()
	var insp containertypes.InspectResponse
	d.API(t, "GET", "/containers/"+name+"/json", nil).Decode(t, 200, &insp)
	assert.Assert(t, insp.State.Health != nil, "%s has no State.Health", name)
	return insp.State.Health
}

// waitHealth waits until the container's health status is want.
func waitHealth(t *testing.T, d *harness.Daemon, name, want string) {
	t.Helper()
	d.WaitState(t, name, "running")
	harness.Poll(t, func() (bool, string) {
		got := d.Inspect(t, name, "{{.State.Health.Status}}")
		return got == want, name + " is " + got + ", want " + want
	})
}

// containerEvents returns the container events of name so far.
func containerEvents(t *testing.T, d *harness.Daemon, name string) []string {
	t.Helper()
	f, _ := json.Marshal(map[string][]string{"container": {name}})
	q := url.Values{"since": {"1"}, "until": {fmt.Sprint(time.Now().Add(time.Second).Unix())}, "filters": {string(f)}}
	r := d.API(t, "GET", "/events?"+q.Encode(), nil)
	assert.Equal(t, r.Status, 200, "%s", r.Body)
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	var out []string
	for {
		var m eventtypes.Message
		if err := dec.Decode(&m); err == io.EOF {
			return out
		} else {
			assert.NilError(t, err)
		}
		out = append(out, string(m.Action))
	}
}

// TestHealthTransitions checks a --health-cmd container through starting,
// healthy and unhealthy: inspect's State.Health, ps' status, the
// health_status events, and the checks after a daemon restart and a stop.
func TestHealthTransitions(t *testing.T) {
	d := harness.NewWithImage(t)
	d.OK(t, "run", "-d", "--name", "hc", "--network", "none", "--read-only", "--tmpfs", "/tmp",
		"--health-cmd", "test -e /tmp/ok && echo fine", "--health-interval", "1s", "--health-retries", "2",
		"busybox", "sh", "-c", "touch /tmp/ok; exec sleep 300")
	// A slow check stays starting for now.
	d.OK(t, "run", "-d", "--name", "slow", "--network", "none", "--health-cmd", "true", "--health-interval", "1h", "busybox", "sleep", "300")
	assert.Check(t, is.Equal(d.Inspect(t, "slow", "{{.State.Health.Status}}"), "starting"))
	assert.Check(t, is.Contains(d.OK(t, "ps", "--filter", "name=slow", "--format", "{{.Status}}"), "(health: starting)"))

	waitHealth(t, d, "hc", "healthy")
	h := inspectHealth(t, d, "hc")
	assert.Check(t, is.Equal(h.FailingStreak, 0))
	assert.Assert(t, len(h.Log) >= 1)
	last := h.Log[len(h.Log)-1]
	assert.Check(t, is.Equal(last.ExitCode, 0))
	assert.Check(t, is.Equal(last.Output, "fine\n"))
	assert.Check(t, !last.End.Before(last.Start))
	assert.Check(t, is.Contains(d.OK(t, "ps", "--filter", "name=hc", "--format", "{{.Status}}"), "(healthy)"))
	assert.Check(t, is.Equal(d.OK(t, "ps", "-q", "--filter", "health=healthy"), d.Inspect(t, "hc", "{{.ID}}")[:12]))

	// The check fails from now on: unhealthy after 2 failures.
	d.OK(t, "exec", "hc", "rm", "/tmp/ok")
	waitHealth(t, d, "hc", "unhealthy")
	h = inspectHealth(t, d, "hc")
	assert.Check(t, h.FailingStreak >= 2, "streak %d", h.FailingStreak)
	assert.Check(t, len(h.Log) <= 5)
	assert.Check(t, is.Equal(h.Log[len(h.Log)-1].ExitCode, 1))
	assert.Check(t, is.Contains(d.OK(t, "ps", "--filter", "name=hc", "--format", "{{.Status}}"), "(unhealthy)"))
	evs := strings.Join(containerEvents(t, d, "hc"), ",")
	assert.Check(t, is.Contains(evs, "health_status: healthy"))
	assert.Check(t, is.Contains(evs, "health_status: unhealthy"))
	// Each probe is an exec as far as events go, as in Docker.
	assert.Check(t, is.Contains(evs, "exec_create: /bin/sh -c test -e /tmp/ok && echo fine,exec_start: /bin/sh -c test -e /tmp/ok && echo fine,exec_die"))

	// The checks go on after a daemon restart.
	d.Restart(t)
	d.OK(t, "exec", "hc", "touch", "/tmp/ok")
	waitHealth(t, d, "hc", "healthy")

	// A stopped container's checks end: it reports unhealthy, as Docker.
	d.OK(t, "stop", "-t", "1", "hc")
	assert.Check(t, is.Equal(d.Inspect(t, "hc", "{{.State.Health.Status}}"), "unhealthy"))
	// A new run starts over.
	d.OK(t, "start", "hc")
	assert.Check(t, is.Equal(d.Inspect(t, "hc", "{{.State.Health.Status}}"), "starting"))
	waitHealth(t, d, "hc", "healthy")
}

// TestHealthTimeoutAndBadInput checks a probe that outlives its timeout and
// the refusal of bad health configurations.
func TestHealthTimeoutAndBadInput(t *testing.T) {
	d := harness.NewWithImage(t)
	d.OK(t, "run", "-d", "--name", "hang", "--network", "none", "--health-cmd", "sleep 30",
		"--health-timeout", "1s", "--health-interval", "1s", "--health-retries", "1", "busybox", "sleep", "300")
	waitHealth(t, d, "hang", "unhealthy")
	h := inspectHealth(t, d, "hang")
	assert.Check(t, is.Equal(h.Log[0].ExitCode, -1))
	assert.Check(t, is.Equal(h.Log[0].Output, "Health check exceeded timeout (1s)"))
	// Timed-out probes are killed: after three, at most the current one
	// runs.
	harness.Poll(t, func() (bool, string) {
		n := len(inspectHealth(t, d, "hang").Log)
		return n >= 3, fmt.Sprintf("%d results", n)
	})
	top := d.OK(t, "top", "hang")
	assert.Check(t, strings.Count(top, "sleep 30") <= 1, top)

	before := d.Snapshot(t)
	for _, tc := range []struct {
		hc   map[string]any
		want string
	}{
		{map[string]any{"Test": []string{"CMD", "true"}, "Interval": 10}, "Interval in Healthcheck cannot be less than 1ms"},
		{map[string]any{"Test": []string{"CMD", "true"}, "Retries": -1}, "Retries in Healthcheck cannot be negative"},
		{map[string]any{"Test": []string{"WHAT", "true"}}, `unknown Healthcheck type "WHAT"`},
	} {
		r := d.API(t, "POST", "/containers/create", map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "Healthcheck": tc.hc})
		assert.Check(t, is.Equal(r.Status, 400), "%s", r.Body)
		assert.Check(t, is.Contains(r.Message(), tc.want))
	}
	d.Fails(t, 125, []string{"--no-healthcheck conflicts with --health-* options"}, "create", "--no-healthcheck", "--health-cmd", "true", "busybox")
	d.AssertUnchanged(t, before, "bad health checks")

	// --no-healthcheck: no State.Health at all.
	d.OK(t, "run", "-d", "--name", "nohc", "--network", "none", "--no-healthcheck", "busybox", "sleep", "300")
	assert.Check(t, is.Equal(d.Inspect(t, "nohc", "{{.State.Health}}"), "<nil>"))
	assert.Check(t, is.Equal(d.Inspect(t, "nohc", "{{json .Config.Healthcheck.Test}}"), `["NONE"]`))
}

// TestDockerCLIHealthCmd drives --health-cmd with both docker CLIs.
func TestDockerCLIHealthCmd(t *testing.T) {
	tg := harness.NewTarget(t)
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		name := c.RunDetached(t, "hc", "--health-cmd", "true", "--health-interval", "1s", "busybox", "sleep", "300")
		c.WaitFor(t, name, "{{.State.Health.Status}}", "healthy")
		assert.Check(t, is.Contains(c.OK(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}"), "(healthy)"))
		assert.Check(t, is.Equal(c.Inspect(t, name, "{{json .Config.Healthcheck.Test}}"), `["CMD-SHELL","true"]`))
		c.OK(t, "rm", "-f", name)
	})
}

const composeHealthFile = `version: "2.4"
services:
  db:
    image: busybox:latest
    read_only: true
    tmpfs: /tmp
    command: sh -c 'sleep 2; touch /tmp/ready; exec sleep 300'
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 1s
      retries: 30
  app:
    image: busybox:latest
    command: sleep 300
    depends_on:
      db:
        condition: service_healthy
`

// TestComposeServiceHealthy runs a compose 1.29 project whose app waits
// for its db to be healthy (file format 2.4's depends_on condition).
func TestComposeServiceHealthy(t *testing.T) {
	d := harness.NewWithImage(t)
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(composeHealthFile), 0o644))
	res := compose(t, d, dir, "up", "-d")
	t.Cleanup(func() { compose(t, d, dir, "down", "-t", "1") })
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Equal(d.Inspect(t, "bt_db_1", "{{.State.Health.Status}}"), "healthy"))
	assert.Check(t, is.Equal(d.Inspect(t, "bt_app_1", "{{.State.Status}}"), "running"))
	// app was started only once db was healthy.
	dbHealthy := inspectHealth(t, d, "bt_db_1")
	var firstOK time.Time
	for _, r := range dbHealthy.Log {
		if r.ExitCode == 0 {
			firstOK = r.End
			break
		}
	}
	started, err := time.Parse(time.RFC3339Nano, d.Inspect(t, "bt_app_1", "{{.State.StartedAt}}"))
	assert.NilError(t, err)
	assert.Check(t, !firstOK.IsZero() && started.After(firstOK), "app started %s, db healthy %s", started, firstOK)
}
