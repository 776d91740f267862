package integration

import (
	"fmt"
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

// TestEngineLifecycle: stop and kill with their signals and timeouts,
// restart, start -a, wait, rm and rm -f of a running container.
func TestEngineLifecycle(t *testing.T) {
	d := harness.NewWithImage(t)
	const handlesTerm = `trap 'echo term; exit 5' TERM; echo ready; while true; do sleep 0.05; done`
	const ignoresTerm = `trap '' TERM; echo ready; while true; do sleep 0.05; done`

	t.Run("stop ends a container that handles the signal at once", func(t *testing.T) {
		d.OK(t, "run", "-d", "--name", "polite", "--network", "none", "busybox", "sh", "-c", handlesTerm)
		d.WaitLogs(t, "polite", "ready")
		start := time.Now()
		assert.Equal(t, d.OK(t, "stop", "-t", "10", "polite"), "polite")
		assert.Assert(t, time.Since(start) < 5*time.Second, "stop waited %v for a container that exits on TERM", time.Since(start))
		assert.Equal(t, d.Inspect(t, "polite", "{{.State.Status}} {{.State.ExitCode}}"), "exited 5")
		assert.Equal(t, d.OK(t, "logs", "polite"), "ready\nterm")
		res := d.Berth(t, "stop", "polite")
		assert.Equal(t, res.ExitCode, 0, "stopping a stopped container is fine: %s", res.Combined())
	})

	t.Run("stop kills after the timeout", func(t *testing.T) {
		d.OK(t, "run", "-d", "--name", "stubborn", "--network", "none", "busybox", "sh", "-c", ignoresTerm)
		d.WaitLogs(t, "stubborn", "ready")
		start := time.Now()
		d.OK(t, "stop", "-t", "1", "stubborn")
		took := time.Since(start)
		assert.Assert(t, took >= time.Second, "stop returned after %v, before its timeout", took)
		assert.Assert(t, took < 6*time.Second, "stop took %v with -t 1", took)
		assert.Equal(t, d.Inspect(t, "stubborn", "{{.State.ExitCode}}"), "137")

		// --stop-signal and --stop-timeout at create.
		d.OK(t, "run", "-d", "--name", "usr1", "--network", "none", "--stop-signal", "USR1", "--stop-timeout", "1", "busybox",
			"sh", "-c", `trap 'echo usr1; exit 6' USR1; echo ready; while true; do sleep 0.05; done`)
		d.WaitLogs(t, "usr1", "ready")
		d.OK(t, "stop", "usr1")
		assert.Equal(t, d.Inspect(t, "usr1", "{{.State.ExitCode}}"), "6")
		d.OK(t, "run", "-d", "--name", "quick", "--network", "none", "--stop-timeout", "1", "busybox", "sh", "-c", ignoresTerm)
		d.WaitLogs(t, "quick", "ready")
		start = time.Now()
		d.OK(t, "stop", "quick")
		assert.Assert(t, time.Since(start) < 6*time.Second, "--stop-timeout 1 ignored: %v", time.Since(start))
	})

	t.Run("kill", func(t *testing.T) {
		d.OK(t, "run", "-d", "--name", "target", "--network", "none", "busybox", "sh", "-c",
			`trap 'echo hup' HUP; echo ready; while true; do sleep 0.05; done`)
		d.WaitLogs(t, "target", "ready")
		d.OK(t, "kill", "-s", "HUP", "target")
		d.WaitLogs(t, "target", "hup")
		assert.Equal(t, d.Inspect(t, "target", "{{.State.Status}}"), "running")
		d.OK(t, "kill", "--signal", "SIGHUP", "target")
		d.OK(t, "kill", "target")
		d.WaitState(t, "target", "exited")
		assert.Equal(t, d.Inspect(t, "target", "{{.State.ExitCode}}"), "137")
		res := d.Berth(t, "kill", "target")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Assert(t, is.Contains(res.Stderr, "is not running"))
		res = d.Berth(t, "kill", "-s", "NOPE", "polite")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
	})

	t.Run("restart", func(t *testing.T) {
		d.OK(t, "run", "-d", "--name", "counter", "--network", "none", "busybox", "sh", "-c",
			`echo run >> /count; wc -l < /count; trap 'exit 0' TERM; while true; do sleep 0.05; done`)
		d.WaitLogs(t, "counter", "1")
		pid := d.Inspect(t, "counter", "{{.State.Pid}}")
		start := time.Now()
		d.OK(t, "restart", "-t", "5", "counter")
		assert.Assert(t, time.Since(start) < 5*time.Second)
		assert.Equal(t, d.Inspect(t, "counter", "{{.State.Status}}"), "running")
		assert.Assert(t, d.Inspect(t, "counter", "{{.State.Pid}}") != pid)
		d.WaitLogs(t, "counter", "2")
		assert.Equal(t, d.OK(t, "logs", "counter"), "1\n2", "the writable layer is kept, the log appended")
		d.OK(t, "stop", "counter")
		d.OK(t, "restart", "counter") // a stopped container starts
		d.WaitLogs(t, "counter", "3")
	})

	t.Run("start -a and wait", func(t *testing.T) {
		d.OK(t, "create", "--name", "attached", "--network", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exit 6")
		assert.Equal(t, d.Inspect(t, "attached", "{{.State.Status}}"), "created")
		res := d.Berth(t, "start", "-a", "attached")
		assert.Equal(t, res.ExitCode, 6, res.Combined())
		assert.Equal(t, res.Stdout, "out\n")
		assert.Equal(t, res.Stderr, "err\n")
		assert.Equal(t, d.OK(t, "wait", "attached"), "6")
		d.OK(t, "start", "attached")
		assert.Equal(t, d.OK(t, "wait", "attached"), "6")
		assert.Equal(t, d.OK(t, "logs", "attached"), "out\nout")
		res = d.BerthIn(t, "piped\n", "start", "-ai", d.OK(t, "create", "-i", "--network", "none", "busybox", "sh", "-c", "read x; echo got:$x"))
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "got:piped\n")
		res = d.Berth(t, "wait", "no-such-container")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
	})

	t.Run("rm", func(t *testing.T) {
		d.OK(t, "run", "-d", "--name", "busy", "--network", "none", "busybox", "sleep", "1000")
		pid, err := strconv.Atoi(d.Inspect(t, "busy", "{{.State.Pid}}"))
		assert.NilError(t, err)
		id := d.Inspect(t, "busy", "{{.Id}}")
		res := d.Berth(t, "rm", "busy")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Assert(t, is.Contains(res.Stderr, "container is running"))
		assert.Equal(t, d.Inspect(t, "busy", "{{.State.Status}}"), "running")

		assert.Equal(t, d.OK(t, "rm", "-f", id[:8]), id[:8])
		assert.Equal(t, d.Berth(t, "inspect", "busy").ExitCode, 1)
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if syscall.Kill(pid, 0) == nil {
				return poll.Continue("process %d of the removed container still runs", pid)
			}
			return poll.Success()
		})
		// A shim ends a moment after its container's exit or removal.
		harness.Poll(t, func() (bool, string) {
			shims, running := d.Shims(), d.OK(t, "ps", "-q")
			return len(shims) == len(strings.Fields(running)), fmt.Sprintf("shims %v for running containers %q: the removed container's shim still runs", shims, running)
		})
		res = d.Berth(t, "rm", "busy")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Assert(t, is.Contains(res.Stderr, "No such container"))
		// rm takes several and removes the others when one fails.
		d.OK(t, "create", "--name", "r1", "--network", "none", "busybox", "true")
		d.OK(t, "create", "--name", "r2", "--network", "none", "busybox", "true")
		res = d.Berth(t, "rm", "r1", "nope", "r2")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Equal(t, res.Stdout, "r1\nr2\n")
	})

	poll.WaitOn(t, func(poll.LogT) poll.Result {
		running := d.OK(t, "ps", "-q")
		if n := len(d.Shims()); n != len(strings.Fields(running)) {
			return poll.Continue("%d shims for running containers %q", n, running)
		}
		return poll.Success()
	})
}
