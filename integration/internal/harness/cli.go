package harness

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// DockerCLIs are the docker clients the compatibility suite drives: the
// current one (which negotiates the API version down) and Debian's 20.10.
var DockerCLIs = []CLI{
	{Bin: DockerCLI, Prefix: "d28"},
	{Bin: DockerCLI2010, Prefix: "d20"},
}

// CLI runs one docker CLI binary against a target. Its checks are the
// Daemon's (OK, Fails, Inspect...) except that OK keeps stdout exactly as
// the CLI printed it: these tests compare Docker's output byte for byte.
type CLI struct {
	Target *Target
	Bin    string
	Prefix string // keeps the names of different CLIs' containers apart
}

// ForEachCLI runs fn once per docker CLI of DockerCLIs, as a subtest named
// after it.
func ForEachCLI(t *testing.T, tg *Target, fn func(t *testing.T, c CLI)) {
	for _, c := range DockerCLIs {
		t.Run(c.TestName(), func(t *testing.T) {
			RequireTool(t, c.Bin)
			c.Target = tg
			fn(t, c)
		})
	}
}

// TestName names the CLI's subtests: docker28, docker2010.
func (c CLI) TestName() string {
	if c.Bin == DockerCLI2010 {
		return "docker2010"
	}
	return "docker28"
}

// Name is a container name private to this CLI.
func (c CLI) Name(s string) string { return c.Prefix + "-" + s }

// Run runs the CLI with args.
func (c CLI) Run(t testing.TB, args ...string) Result {
	t.Helper()
	return c.Target.CLI(t, c.Bin, "", args...)
}

// RunIn runs the CLI with stdin.
func (c CLI) RunIn(t testing.TB, stdin string, args ...string) Result {
	t.Helper()
	return c.Target.CLI(t, c.Bin, stdin, args...)
}

// OK runs args, expects exit status 0 and returns stdout.
func (c CLI) OK(t testing.TB, args ...string) string {
	t.Helper()
	res := c.Run(t, args...)
	assert.Equal(t, res.ExitCode, 0, "docker %s\n%s", strings.Join(args, " "), res.Combined())
	return res.Stdout
}

// Fails runs args and expects exit status code with want in the output.
func (c CLI) Fails(t testing.TB, code int, want string, args ...string) Result {
	t.Helper()
	res := c.Run(t, args...)
	assert.Equal(t, res.ExitCode, code, "docker %s\n%s", strings.Join(args, " "), res.Combined())
	assert.Check(t, is.Contains(res.Combined(), want), "docker %s", strings.Join(args, " "))
	return res
}

// Inspect returns a Go template's value for an object.
func (c CLI) Inspect(t testing.TB, name, format string) string {
	t.Helper()
	return strings.TrimSpace(c.OK(t, "inspect", "--format", format, name))
}

// WaitFor waits until a container's template value is want.
func (c CLI) WaitFor(t testing.TB, name, format, want string) {
	t.Helper()
	Poll(t, func() (bool, string) {
		res := c.Run(t, "inspect", "--format", format, name)
		got := strings.TrimSpace(res.Stdout)
		return got == want, format + " of " + name + " is " + got + ", want " + want + " (" + res.Stderr + ")"
	})
}

// RunDetached runs `docker run -d --name <prefix>-name args...` (default
// args: a busybox sleeping) and returns the container's name.
func (c CLI) RunDetached(t testing.TB, name string, args ...string) string {
	t.Helper()
	name = c.Name(name)
	if len(args) == 0 {
		args = []string{"busybox", "sleep", "300"}
	}
	out := strings.TrimSpace(c.OK(t, append([]string{"run", "-d", "--name", name}, args...)...))
	assert.Check(t, len(out) == 64, "docker run -d prints the id, got %q", out)
	return name
}
