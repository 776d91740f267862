package integration

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestDockerCLIInteractiveTTY types into `docker run -it` and
// `docker exec -it` through a real pseudo-terminal: the shell answers, the
// terminal size follows resizes, the exit code comes back, and the detach
// keys leave the container running.
func TestDockerCLIInteractiveTTY(t *testing.T) {
	tg := harness.NewTarget(t)
	for _, d := range harness.DockerCLIs {
		t.Run(d.TestName(), func(t *testing.T) {
			c := harness.CLI{Target: tg, Bin: d.Bin, Prefix: d.Prefix}

			p := tg.CLIOnPTY(t, d.Bin, 24, 80, "run", "-it", "--rm", "busybox", "sh")
			p.Expect(t, "# ")
			p.Type(t, "echo hi-$((1+1))\r")
			p.Expect(t, "hi-2")
			p.Type(t, "stty size\r")
			p.Expect(t, "24 80")
			p.Resize(t, 40, 100)
			p.Type(t, "sleep 0.3; stty size\r")
			p.Expect(t, "40 100")
			// A TTY has one stream: stderr arrives on the terminal too.
			p.Type(t, "echo on-err-$((2+2)) >&2\r")
			p.Expect(t, "on-err-4")
			p.Type(t, "exit 3\r")
			assert.Equal(t, p.Wait(t), 3, p.Output())

			// ctrl-p ctrl-q detaches and leaves the shell running.
			name := c.Name("detach")
			p = tg.CLIOnPTY(t, d.Bin, 24, 80, "run", "-it", "--name", name, "busybox", "sh")
			p.Expect(t, "# ")
			p.Type(t, "echo before-detach\r")
			p.Expect(t, "before-detach")
			p.Type(t, "\x10\x11")
			assert.Equal(t, p.Wait(t), 0, p.Output())
			assert.Equal(t, c.Inspect(t, name, "{{.State.Running}} {{.Config.Tty}}"), "true true")
			// The log of a TTY container is its raw terminal output.
			assert.Assert(t, len(c.OK(t, "logs", name)) > 0)

			if tg.Daemon != nil {
				// The shim holds the terminal: it survives a daemon restart.
				tg.Daemon.Restart(t)
				assert.Equal(t, c.Inspect(t, name, "{{.State.Running}}"), "true")
			}

			// docker attach reconnects to the terminal; resize reaches it.
			p = tg.CLIOnPTY(t, d.Bin, 20, 70, "attach", name)
			p.Type(t, "echo re-$((5+5)); stty size\r")
			p.Expect(t, "re-10")
			p.Expect(t, "20 70")
			p.Type(t, "\x10\x11")
			// As with Docker: attach ends with exit 1 on the detach keys.
			assert.Equal(t, p.Wait(t), 1, p.Output())
			assert.Check(t, strings.Contains(p.Output(), "read escape sequence"), p.Output())
			assert.Equal(t, c.Inspect(t, name, "{{.State.Running}}"), "true")

			// docker exec -it in the detached container.
			p = tg.CLIOnPTY(t, d.Bin, 30, 90, "exec", "-it", name, "sh")
			p.Expect(t, "# ")
			p.Type(t, "stty size; echo exec-$((3+3))\r")
			p.Expect(t, "30 90")
			p.Expect(t, "exec-6")
			p.Resize(t, 33, 77)
			p.Type(t, "sleep 0.3; stty size\r")
			p.Expect(t, "33 77")
			p.Type(t, "exit 4\r")
			assert.Equal(t, p.Wait(t), 4, p.Output())
			c.OK(t, "rm", "-f", name)

			// The output and log of a TTY container are raw: one stream, the
			// terminal's line endings, no framing.
			ttyOut := c.Name("ttyout")
			res := c.Run(t, "run", "-t", "--name", ttyOut, "busybox", "sh", "-c", "echo out; echo err >&2")
			assert.Equal(t, res.ExitCode, 0, res.Combined())
			assert.Equal(t, res.Stdout, "out\r\nerr\r\n")
			assert.Equal(t, c.OK(t, "logs", ttyOut), "out\r\nerr\r\n")

			// -t without a terminal on stdin is refused by the CLI.
			res = c.RunIn(t, "", "run", "-it", "--rm", "busybox", "true")
			assert.Assert(t, res.ExitCode != 0)
		})
	}
}

// TestDockerCLITmpfsEtc runs the interactive examples: a shell with
// /etc on a tmpfs that holds the image's /etc, is writable, and is fresh
// after a restart; and /etc with explicit options.
func TestDockerCLITmpfsEtc(t *testing.T) {
	tg := harness.NewTarget(t)
	for _, d := range harness.DockerCLIs {
		t.Run(d.TestName(), func(t *testing.T) {
			c := harness.CLI{Target: tg, Bin: d.Bin, Prefix: d.Prefix}
			name := c.Name("etc")
			p := tg.CLIOnPTY(t, d.Bin, 24, 80, "run", "-ti", "--name", name, "--tmpfs", "/etc", "busybox", "/bin/sh")
			p.Expect(t, "# ")
			p.Type(t, "grep -c '^app:' /etc/passwd; echo written > /etc/new && cat /etc/new\r")
			if tg.IsDocker() {
				// Docker mounts the tmpfs empty: no passwd to count in.
				p.Expect(t, "\nwritten")
			} else {
				// Berth copies the image's /etc onto it.
				p.Expect(t, "1\r\nwritten")
			}
			p.Type(t, "exit\r")
			assert.Equal(t, p.Wait(t), 0, p.Output())

			// Restarted, /etc is the image's again: the new file is gone.
			c.OK(t, "start", name)
			if !tg.IsDocker() {
				assert.Equal(t, c.OK(t, "exec", name, "grep", "-c", "^app:", "/etc/passwd"), "1\n")
			}
			c.Fails(t, 1, "No such file or directory", "exec", name, "cat", "/etc/new")
			c.OK(t, "rm", "-f", name)

			p = tg.CLIOnPTY(t, d.Bin, 24, 120, "run", "-ti", "--rm", "--tmpfs", "/etc:rw,noexec,nosuid,size=2g", "busybox")
			p.Expect(t, "# ")
			p.Type(t, "grep ' /etc ' /proc/mounts\r")
			p.Expect(t, "size=2097152k")
			out := p.Output()
			for _, want := range []string{"tmpfs /etc tmpfs rw", "nosuid", "noexec"} {
				assert.Check(t, strings.Contains(out, want), "want %q in %s", want, out)
			}
			p.Type(t, "exit 0\r")
			assert.Equal(t, p.Wait(t), 0, p.Output())
		})
	}
}
