package integration

import (
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestEngineRestartPolicy: on-failure restarts up to its count, always
// restarts after a clean exit too, a user's stop is final, and bad
// policies are refused at create.
func TestEngineRestartPolicy(t *testing.T) {
	d := harness.NewWithImage(t)

	t.Run("on-failure:2 restarts twice, then stays exited", func(t *testing.T) {
		d.OK(t, "run", "-d", "--name", "flaky", "--network", "none", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 3")
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			out := d.Inspect(t, "flaky", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}")
			if out == "exited 2 3" {
				return poll.Success()
			}
			return poll.Continue("state %q", out)
		}, poll.WithTimeout(20*time.Second), poll.WithDelay(50*time.Millisecond))
		// No third restart comes after the back-off.
		time.Sleep(time.Second)
		assert.Equal(t, d.Inspect(t, "flaky", "{{.State.Status}} {{.RestartCount}}"), "exited 2")
		assert.Equal(t, strings.Count(d.OK(t, "logs", "flaky"), "run"), 3)
	})

	t.Run("always restarts a clean exit; stop is final", func(t *testing.T) {
		d.OK(t, "run", "-d", "--name", "keeper", "--network", "none", "--restart", "always", "busybox", "sh", "-c", "echo up; sleep 0.2")
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			out := d.Inspect(t, "keeper", "{{.RestartCount}}")
			if n, _ := strconv.Atoi(out); n >= 2 {
				return poll.Success()
			}
			return poll.Continue("restart count %q", out)
		}, poll.WithTimeout(20*time.Second), poll.WithDelay(50*time.Millisecond))
		d.OK(t, "stop", "-t", "1", "keeper")
		count := d.Inspect(t, "keeper", "{{.RestartCount}}")
		time.Sleep(1500 * time.Millisecond)
		assert.Equal(t, d.Inspect(t, "keeper", "{{.State.Status}} {{.RestartCount}}"), "exited "+count)
	})

	t.Run("a manual restart is not counted", func(t *testing.T) {
		d.OK(t, "run", "-d", "--name", "manual", "--network", "none", "busybox", "sleep", "30")
		d.OK(t, "restart", "-t", "0", "manual")
		assert.Equal(t, d.Inspect(t, "manual", "{{.State.Status}} {{.RestartCount}}"), "running 0")
	})

	t.Run("a policy restarts a container lost with its shim (a host reboot)", func(t *testing.T) {
		d.OK(t, "run", "-d", "--name", "rebooted", "--network", "none", "--restart", "always", "busybox", "sleep", "100")
		pid := d.Inspect(t, "rebooted", "{{.State.Pid}}")
		d.Kill(t)
		shims := d.Shims()
		for i, p := range append(shims, pid) {
			n, err := strconv.Atoi(p)
			assert.NilError(t, err)
			err = syscall.Kill(n, syscall.SIGKILL)
			// ESRCH: the shim of an earlier, exited container ended meanwhile.
			if i < len(shims) && errors.Is(err, syscall.ESRCH) {
				continue
			}
			assert.NilError(t, err)
		}
		d.Start(t)
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			out := d.Inspect(t, "rebooted", "{{.State.Status}} {{.RestartCount}} {{.State.Pid}}")
			if f := strings.Fields(out); len(f) == 3 && f[0] == "running" && f[1] == "1" && f[2] != pid {
				return poll.Success()
			}
			return poll.Continue("state %q", out)
		}, poll.WithTimeout(20*time.Second), poll.WithDelay(50*time.Millisecond))
	})

	t.Run("bad policies are refused at create", func(t *testing.T) {
		res := d.Berth(t, "create", "--restart", "on-failure:-1", "busybox")
		assert.Equal(t, res.ExitCode, 125, res.Combined())
		res = d.Berth(t, "create", "--restart", "always", "--rm", "busybox")
		assert.Equal(t, res.ExitCode, 125, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "AutoRemove"))
	})
}

// TestEngineRestartAutoRemove: a daemon that starts removes the --rm
// containers that are not running, as Docker's does (a created one never
// started, here), and keeps a running one, which goes when it ends.
func TestEngineRestartAutoRemove(t *testing.T) {
	d := harness.NewWithImage(t)
	d.OK(t, "create", "--rm", "--name", "never", "--network", "none", "busybox", "true")
	d.OK(t, "create", "--name", "kept", "--network", "none", "busybox", "true")
	d.OK(t, "run", "-d", "--rm", "--name", "alive", "--network", "none", "busybox", "sleep", "600")
	d.Restart(t)
	res := d.Berth(t, "inspect", "never")
	assert.Assert(t, res.ExitCode != 0, "the created --rm container survived the restart: %s", res.Stdout)
	assert.Equal(t, d.Inspect(t, "kept", "{{.State.Status}}"), "created")
	assert.Equal(t, d.Inspect(t, "alive", "{{.State.Status}}"), "running")
	d.OK(t, "kill", "alive")
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if d.Berth(t, "inspect", "alive").ExitCode != 0 {
			return poll.Success()
		}
		return poll.Continue("the running --rm container is not removed after its end")
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(50*time.Millisecond))
	d.OK(t, "rm", "kept")
}
