package integration

import (
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestDockerCLIExec drives docker exec with -i, -u, -w, -e and -d in a
// read-only container, and its errors.
func TestDockerCLIExec(t *testing.T) {
	tg := harness.NewTarget(t)
	forEachCLI(t, tg, func(t *testing.T, c cli) {
		ro := c.runDetached(t, "exec", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp", "-e", "FROM_RUN=run-env", "-w", "/run", "busybox", "sleep", "300")

		assert.Equal(t, c.ok(t, "exec", ro, "echo", "hello"), "hello\n")
		// The container's environment and working directory by default.
		assert.Equal(t, c.ok(t, "exec", ro, "sh", "-c", `echo "$FROM_RUN $HOME"; pwd; id -u`), "run-env /root\n/run\n0\n")
		// -u, -w, -e override them.
		assert.Equal(t, c.ok(t, "exec", "-u", "app", "-w", "/tmp", "-e", "FROM_RUN=exec-env", "-e", "OTHER=x", ro, "sh", "-c", `echo "$FROM_RUN $OTHER"; pwd; id -u; id -g`), "exec-env x\n/tmp\n1000\n1000\n")
		assert.Equal(t, c.ok(t, "exec", "-u", "1000:0", ro, "id", "-u"), "1000\n")
		// Exit codes, stdout and stderr apart.
		res := c.run(t, "exec", ro, "sh", "-c", "echo out; echo err >&2; exit 5")
		assert.Equal(t, res.ExitCode, 5)
		assert.Equal(t, res.Stdout, "out\n")
		assert.Equal(t, res.Stderr, "err\n")
		// -i: stdin reaches the process, and its end ends the process.
		res = c.runIn(t, "abc\ndef\n", "exec", "-i", ro, "sh", "-c", "cat; echo done")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "abc\ndef\ndone\n")
		// Without -i the process gets no input.
		res = c.runIn(t, "ignored\n", "exec", ro, "cat")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "")
		// The tmpfs mounts are writable, the rootfs is not.
		assert.Equal(t, c.ok(t, "exec", ro, "sh", "-c", "echo x > /tmp/f && cat /tmp/f"), "x\n")
		c.fails(t, 1, "Read-only file system", "exec", ro, "touch", "/etc/x")
		// Exec output does not go to the container's log.
		assert.Equal(t, c.ok(t, "logs", ro), "")

		// -d returns at once; the process runs on.
		assert.Equal(t, c.ok(t, "exec", "-d", ro, "sh", "-c", "sleep 0.3; echo detached > /tmp/d"), "")
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if res := c.run(t, "exec", ro, "cat", "/tmp/d"); res.Stdout == "detached\n" {
				return poll.Success()
			}
			return poll.Continue("detached exec has not written /tmp/d yet")
		}, poll.WithTimeout(10*time.Second), poll.WithDelay(100*time.Millisecond))

		// Errors as Docker reports them.
		// 127 as current Docker reports it (dockerd 20.10 said 126).
		res = c.run(t, "exec", ro, "nosuchcmd")
		if !(res.ExitCode == 127 || (tg.IsDocker() && res.ExitCode == 126)) {
			t.Errorf("docker exec of a missing command: exit %d, want 127\n%s", res.ExitCode, res.Combined())
		}
		assert.Check(t, is.Contains(res.Combined(), "OCI runtime exec failed"))
		assert.Check(t, is.Contains(res.Combined(), `exec: "nosuchcmd": executable file not found in $PATH`))
		c.fails(t, 1, "No such container: "+c.name("nosuch"), "exec", c.name("nosuch"), "true")
		c.ok(t, "pause", ro)
		c.fails(t, 1, "is paused, unpause the container before exec", "exec", ro, "true")
		c.ok(t, "unpause", ro)
		id := c.inspect(t, "{{.Id}}", ro)
		c.ok(t, "kill", ro)
		c.waitFor(t, "{{.State.Running}}", ro, "false")
		// Current Docker's text; dockerd 20.10 capitalised "Container".
		res = c.run(t, "exec", ro, "true")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Check(t, is.Contains(strings.ToLower(res.Stderr), "container "+id+" is not running"))
	})
}

// TestDockerCLIPauseTopStats drives pause, unpause, top and stats.
func TestDockerCLIPauseTopStats(t *testing.T) {
	tg := harness.NewTarget(t)
	forEachCLI(t, tg, func(t *testing.T, c cli) {
		name := c.runDetached(t, "procs")

		assert.Equal(t, c.ok(t, "pause", name), name+"\n")
		assert.Equal(t, c.inspect(t, "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", name), "paused true true")
		assert.Equal(t, c.ok(t, "ps", "--filter", "status=paused", "--format", "{{.Names}}"), name+"\n")
		assert.Check(t, is.Contains(c.ok(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}"), "(Paused)"))
		c.fails(t, 1, "is already paused", "pause", name)
		assert.Equal(t, c.ok(t, "unpause", name), name+"\n")
		assert.Equal(t, c.inspect(t, "{{.State.Status}}", name), "running")
		c.fails(t, 1, "is not paused", "unpause", name)

		top := c.ok(t, "top", name)
		lines := strings.Split(strings.TrimSpace(top), "\n")
		assert.Assert(t, len(lines) == 2, top)
		assert.Check(t, is.Equal(strings.Join(strings.Fields(lines[0]), " "), "UID PID PPID C STIME TTY TIME CMD"))
		assert.Check(t, strings.HasSuffix(lines[1], "sleep 300"), lines[1])
		top = c.ok(t, "top", name, "-o", "pid,comm")
		assert.Check(t, is.Contains(top, "COMMAND"))
		assert.Check(t, is.Contains(top, "sleep"))

		stats := c.ok(t, "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.MemUsage}}", name)
		fields := strings.Fields(stats)
		assert.Assert(t, len(fields) >= 3, stats)
		assert.Check(t, is.Equal(fields[0], name))
		assert.Check(t, is.Equal(fields[1], "1"))
		assert.Check(t, !strings.HasPrefix(fields[2], "0B"), "memory usage %q", fields[2])
		all := c.ok(t, "stats", "--no-stream")
		assert.Check(t, is.Contains(all, "CONTAINER ID"))
		assert.Check(t, is.Contains(all, name))

		c.ok(t, "kill", name)
		c.waitFor(t, "{{.State.Running}}", name, "false")
		c.fails(t, 1, "is not running", "top", name)
		c.fails(t, 1, "is not running", "pause", name)
	})
}

// TestBerthCLIExecPauseTop drives berth's own exec, pause, unpause and top.
func TestBerthCLIExecPauseTop(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	res := d.Berth(t, "run", "-d", "--name", "bx", "--read-only", "--tmpfs", "/tmp", "busybox", "sleep", "300")
	assert.Equal(t, res.ExitCode, 0, res.Combined())

	res = d.Berth(t, "exec", "-u", "app", "-w", "/tmp", "-e", "X=y", "bx", "sh", "-c", `id -u; pwd; echo $X; echo err >&2; exit 3`)
	assert.Equal(t, res.ExitCode, 3, res.Combined())
	assert.Equal(t, res.Stdout, "1000\n/tmp\ny\n")
	assert.Equal(t, res.Stderr, "err\n")
	res = d.BerthIn(t, "piped\n", "exec", "-i", "bx", "cat")
	assert.Equal(t, res.Stdout, "piped\n")
	res = d.Berth(t, "exec", "-d", "bx", "touch", "/tmp/bg")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if d.Berth(t, "exec", "bx", "test", "-e", "/tmp/bg").ExitCode == 0 {
			return poll.Success()
		}
		return poll.Continue("waiting for the detached exec")
	}, poll.WithTimeout(10*time.Second))
	res = d.Berth(t, "exec", "-t", "bx", "tty")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, strings.HasPrefix(res.Stdout, "/dev/pts/"), res.Stdout)
	res = d.Berth(t, "exec", "bx", "nosuchcmd")
	assert.Equal(t, res.ExitCode, 127, res.Combined())

	assert.Equal(t, d.Berth(t, "pause", "bx").Stdout, "bx\n")
	assert.Check(t, is.Contains(d.Berth(t, "exec", "bx", "true").Stderr, "is paused"))
	assert.Equal(t, d.Berth(t, "unpause", "bx").Stdout, "bx\n")
	res = d.Berth(t, "top", "bx")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "sleep 300"))
}
