package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/cli/command"
)

func TestIsKubePlugin(t *testing.T) {
	root := NewRootCommand(&command.Cli{})
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"kube"}, true},
		{[]string{"kube", "play", "x.yaml"}, true},
		{[]string{"kube", "--help"}, true},
		{[]string{"-H", "unix:///x.sock", "kube", "down", "f"}, true},
		{[]string{"--host", "unix:///x.sock", "-D", "kube"}, true},
		{[]string{"--host=unix:///x.sock", "--log-level", "debug", "kube"}, true},
		{[]string{"help", "kube"}, true},
		{[]string{"__complete", "kube", ""}, true},
		{[]string{"__completeNoDesc", "-H", "h", "kube", "play", "--"}, true},
		{[]string{}, false},
		{[]string{"run", "--rm", "img", "kube"}, false},
		{[]string{"-H", "kube", "ps"}, false}, // "kube" is -H's value
		{[]string{"__complete", "ku"}, false},
		{[]string{"__complete", ""}, false},
		{[]string{"--", "kube"}, false},
		{[]string{"kubectl"}, false},
	} {
		assert.Check(t, is.Equal(isKubePlugin(root, tc.args), tc.want), "%q", tc.args)
	}
	// berth-kube's tree has the real command: it never hands over.
	real := func(*command.Cli) *cobra.Command { return &cobra.Command{Use: "kube COMMAND"} }
	assert.Check(t, !isKubePlugin(newRootCommandFor(&command.Cli{}, real, nil), []string{"kube"}))
	assert.Check(t, !isKubePlugin(newRootCommandFor(&command.Cli{}, real, []string{"kube"}), []string{"kube"}))
}

func TestKubeProgramPath(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "berth")
	assert.NilError(t, os.WriteFile(self, nil, 0o755))
	noPath := func(string) (string, error) { return "", errors.New("not found") }
	onPath := func(string) (string, error) { return "/usr/bin/berth-kube", nil }

	_, err := kubeProgramPath(self, noPath)
	assert.ErrorContains(t, err, "needs the berth-kube program, which is neither at "+filepath.Join(dir, "berth-kube")+" nor on PATH")
	p, err := kubeProgramPath(self, onPath)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(p, "/usr/bin/berth-kube"))

	// Next to berth wins; through a symlink to berth, next to the real one.
	next := filepath.Join(dir, "berth-kube")
	assert.NilError(t, os.WriteFile(next, nil, 0o755))
	link := filepath.Join(t.TempDir(), "berth")
	assert.NilError(t, os.Symlink(self, link))
	p, err = kubeProgramPath(link, onPath)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(p, next))
	// Not executable: not taken.
	assert.NilError(t, os.Chmod(next, 0o644))
	_, err = kubeProgramPath(self, noPath)
	assert.Check(t, err != nil)
}

func TestKubeHandsOverToBerthKube(t *testing.T) {
	// A berth-kube stand-in on PATH (nothing named so next to the test
	// binary): it sees berth's arguments and its exit status is berth's.
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"args: $*\"\nexit 3\n"
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "berth-kube"), []byte(script), 0o755))
	t.Setenv("PATH", dir)
	var out, errOut bytes.Buffer
	code := RunWith(t.Context(), &command.Cli{Out: &out, Err: &errOut}, []string{"-H", "unix:///x.sock", "kube", "play", "f.yaml"})
	assert.Check(t, is.Equal(code, 3))
	assert.Check(t, is.Equal(out.String(), "args: -H unix:///x.sock kube play f.yaml\n"))
}

// TestTopLevelNames: the names under which a lone command is built are its
// own, and the lazy root for a command has that command and no other.
func TestTopLevelNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range topLevel(newKubePluginCommand) {
		cmd := c.new(&command.Cli{})
		assert.Check(t, is.Equal(cmd.Name(), c.name))
		assert.Check(t, is.Len(cmd.Aliases, 0), "%s has aliases: list them in topLevel", c.name)
		assert.Check(t, !seen[c.name], "%s listed twice", c.name)
		seen[c.name] = true

		root := newRootCommandFor(&command.Cli{}, newKubePluginCommand, []string{"-H", "unix:///x", c.name, "--help"})
		assert.Check(t, is.Len(root.Commands(), 1))
		found, _, err := root.Find([]string{c.name})
		assert.Check(t, err == nil && found.Name() == c.name, "%s: %v", c.name, err)
	}
	full := NewRootCommand(&command.Cli{})
	for _, c := range full.Commands() {
		assert.Check(t, seen[c.Name()] || c.Name() == "completion", "%s not in topLevel", c.Name())
	}
	for _, args := range [][]string{nil, {"--version"}, {"bogus"}, {"help", "run"}, {"__complete", "r"}, {"completion", "bash"}, {"--", "run"}} {
		root := newRootCommandFor(&command.Cli{}, newKubePluginCommand, args)
		assert.Check(t, is.Len(root.Commands(), len(full.Commands())), "%q", args)
	}
}

func TestCommandName(t *testing.T) {
	root := newRoot(&command.Cli{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"run", "-d", "img"}, "run"},
		{[]string{"-H", "unix:///x", "--log-level", "debug", "-D", "ps"}, "ps"},
		{[]string{"--host=unix:///x", "-l", "info", "ps"}, "ps"},
		{[]string{"-v"}, ""},
		{[]string{"-H", "run", "ps"}, "ps"},
		{[]string{"--", "run"}, ""},
	} {
		assert.Check(t, is.Equal(commandName(root, tc.args), tc.want), "%q", tc.args)
	}
}
