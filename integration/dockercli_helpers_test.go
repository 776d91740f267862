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

// dockerCLIs are the docker clients the compatibility suite drives: the
// current one (which negotiates the API version down) and Debian's 20.10.
var dockerCLIs = []struct{ name, bin, prefix string }{
	{"docker28", harness.DockerCLI, "d28"},
	{"docker2010", harness.DockerCLI2010, "d20"},
}

// cli runs one docker CLI against a target, with the expectations the
// tests share.
type cli struct {
	tg     *harness.Target
	bin    string
	prefix string // keeps the names of the two CLIs' containers apart
}

func forEachCLI(t *testing.T, tg *harness.Target, fn func(t *testing.T, c cli)) {
	for _, d := range dockerCLIs {
		t.Run(d.name, func(t *testing.T) {
			harness.RequireTool(t, d.bin)
			fn(t, cli{tg: tg, bin: d.bin, prefix: d.prefix})
		})
	}
}

func (c cli) name(s string) string { return c.prefix + "-" + s }

func (c cli) run(t *testing.T, args ...string) harness.Result {
	t.Helper()
	return c.tg.CLI(t, c.bin, "", args...)
}

func (c cli) runIn(t *testing.T, stdin string, args ...string) harness.Result {
	t.Helper()
	return c.tg.CLI(t, c.bin, stdin, args...)
}

// ok runs args, expects exit status 0 and returns stdout.
func (c cli) ok(t *testing.T, args ...string) string {
	t.Helper()
	res := c.run(t, args...)
	assert.Equal(t, res.ExitCode, 0, "docker %s\n%s", strings.Join(args, " "), res.Combined())
	return res.Stdout
}

// fails runs args and expects exit status code with want in the output.
func (c cli) fails(t *testing.T, code int, want string, args ...string) harness.Result {
	t.Helper()
	res := c.run(t, args...)
	assert.Equal(t, res.ExitCode, code, "docker %s\n%s", strings.Join(args, " "), res.Combined())
	assert.Check(t, is.Contains(res.Combined(), want), "docker %s", strings.Join(args, " "))
	return res
}

// inspect returns a Go template's value for a container.
func (c cli) inspect(t *testing.T, format, name string) string {
	t.Helper()
	return strings.TrimSpace(c.ok(t, "inspect", "--format", format, name))
}

// waitFor polls a container's template value until it is want.
func (c cli) waitFor(t *testing.T, format, name, want string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		res := c.run(t, "inspect", "--format", format, name)
		if got := strings.TrimSpace(res.Stdout); got == want {
			return poll.Success()
		}
		return poll.Continue("%s of %s is %q, want %q (%s)", format, name, strings.TrimSpace(res.Stdout), want, res.Stderr)
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(100*time.Millisecond))
}

// runDetached runs `docker run -d --name <prefix>-name args...` (default
// args: a busybox sleeping) and returns the container's name.
func (c cli) runDetached(t *testing.T, name string, args ...string) string {
	t.Helper()
	name = c.name(name)
	if len(args) == 0 {
		args = []string{"busybox", "sleep", "300"}
	}
	all := append([]string{"run", "-d", "--name", name}, args...)
	out := strings.TrimSpace(c.ok(t, all...))
	assert.Check(t, len(out) == 64, "docker run -d prints the id, got %q", out)
	return name
}
