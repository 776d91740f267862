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
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		ro := c.RunDetached(t, "exec", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp", "-e", "FROM_RUN=run-env", "-w", "/run", "busybox", "sleep", "300")

		assert.Equal(t, c.OK(t, "exec", ro, "echo", "hello"), "hello\n")
		// The container's environment and working directory by default.
		assert.Equal(t, c.OK(t, "exec", ro, "sh", "-c", `echo "$FROM_RUN $HOME"; pwd; id -u`), "run-env /root\n/run\n0\n")
		// -u, -w, -e override them.
		assert.Equal(t, c.OK(t, "exec", "-u", "app", "-w", "/tmp", "-e", "FROM_RUN=exec-env", "-e", "OTHER=x", ro, "sh", "-c", `echo "$FROM_RUN $OTHER"; pwd; id -u; id -g`), "exec-env x\n/tmp\n1000\n1000\n")
		assert.Equal(t, c.OK(t, "exec", "-u", "1000:0", ro, "id", "-u"), "1000\n")
		// Exit codes, stdout and stderr apart.
		res := c.Run(t, "exec", ro, "sh", "-c", "echo out; echo err >&2; exit 5")
		assert.Equal(t, res.ExitCode, 5)
		assert.Equal(t, res.Stdout, "out\n")
		assert.Equal(t, res.Stderr, "err\n")
		// -i: stdin reaches the process, and its end ends the process.
		res = c.RunIn(t, "abc\ndef\n", "exec", "-i", ro, "sh", "-c", "cat; echo done")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "abc\ndef\ndone\n")
		// Without -i the process gets no input.
		res = c.RunIn(t, "ignored\n", "exec", ro, "cat")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "")
		// The tmpfs mounts are writable, the rootfs is not.
		assert.Equal(t, c.OK(t, "exec", ro, "sh", "-c", "echo x > /tmp/f && cat /tmp/f"), "x\n")
		c.Fails(t, 1, "Read-only file system", "exec", ro, "touch", "/etc/x")
		// Exec output does not go to the container's log.
		assert.Equal(t, c.OK(t, "logs", ro), "")

		// -d returns at once; the process runs on.
		assert.Equal(t, c.OK(t, "exec", "-d", ro, "sh", "-c", "sleep 0.3; echo detached > /tmp/d"), "")
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if res := c.Run(t, "exec", ro, "cat", "/tmp/d"); res.Stdout == "detached\n" {
				return poll.Success()
			}
			return poll.Continue("detached exec has not written /tmp/d yet")
		}, poll.WithTimeout(10*time.Second), poll.WithDelay(100*time.Millisecond))

		// Errors as Docker reports them.
		// 127 as current Docker reports it (dockerd 20.10 said 126).
		res = c.Run(t, "exec", ro, "nosuchcmd")
		if !(res.ExitCode == 127 || (tg.IsDocker() && res.ExitCode == 126)) {
			t.Errorf("docker exec of a missing command: exit %d, want 127\n%s", res.ExitCode, res.Combined())
		}
		assert.Check(t, is.Contains(res.Combined(), "OCI runtime exec failed"))
		assert.Check(t, is.Contains(res.Combined(), `exec: "nosuchcmd": executable file not found in $PATH`))
		c.Fails(t, 1, "No such container: "+c.Name("nosuch"), "exec", c.Name("nosuch"), "true")
		c.OK(t, "pause", ro)
		c.Fails(t, 1, "is paused, unpause the container before exec", "exec", ro, "true")
		c.OK(t, "unpause", ro)
		id := c.Inspect(t, ro, "{{.Id}}")
		c.OK(t, "kill", ro)
		c.WaitFor(t, ro, "{{.State.Running}}", "false")
		// Current Docker's text; dockerd 20.10 capitalised "Container".
		res = c.Run(t, "exec", ro, "true")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Check(t, is.Contains(strings.ToLower(res.Stderr), "container "+id+" is not running"))
	})
}

// TestDockerCLIPauseTopStats drives pause, unpause, top and stats.
func TestDockerCLIPauseTopStats(t *testing.T) {
	tg := harness.NewTarget(t)
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		name := c.RunDetached(t, "procs")

		assert.Equal(t, c.OK(t, "pause", name), name+"\n")
		assert.Equal(t, c.Inspect(t, name, "{{.State.Status}} {{.State.Paused}} {{.State.Running}}"), "paused true true")
		assert.Equal(t, c.OK(t, "ps", "--filter", "status=paused", "--format", "{{.Names}}"), name+"\n")
		assert.Check(t, is.Contains(c.OK(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}"), "(Paused)"))
		c.Fails(t, 1, "is already paused", "pause", name)
		assert.Equal(t, c.OK(t, "unpause", name), name+"\n")
		assert.Equal(t, c.Inspect(t, name, "{{.State.Status}}"), "running")
		c.Fails(t, 1, "is not paused", "unpause", name)

		top := c.OK(t, "top", name)
		lines := strings.Split(strings.TrimSpace(top), "\n")
		assert.Assert(t, len(lines) == 2, top)
		assert.Check(t, is.Equal(strings.Join(strings.Fields(lines[0]), " "), "UID PID PPID C STIME TTY TIME CMD"))
		assert.Check(t, strings.HasSuffix(lines[1], "sleep 300"), lines[1])
		top = c.OK(t, "top", name, "-o", "pid,comm")
		assert.Check(t, is.Contains(top, "COMMAND"))
		assert.Check(t, is.Contains(top, "sleep"))

		stats := c.OK(t, "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.MemUsage}}", name)
		fields := strings.Fields(stats)
		assert.Assert(t, len(fields) >= 3, stats)
		assert.Check(t, is.Equal(fields[0], name))
		assert.Check(t, is.Equal(fields[1], "1"))
		assert.Check(t, !strings.HasPrefix(fields[2], "0B"), "memory usage %q", fields[2])
		all := c.OK(t, "stats", "--no-stream")
		assert.Check(t, is.Contains(all, "CONTAINER ID"))
		assert.Check(t, is.Contains(all, name))

		c.OK(t, "kill", name)
		c.WaitFor(t, name, "{{.State.Running}}", "false")
		c.Fails(t, 1, "is not running", "top", name)
		c.Fails(t, 1, "is not running", "pause", name)
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
