package integration

// Helpers of the tmpfs contract tests (tmpfs_*_test.go): the runtimes they
// run on, running a shell script in a container and parsing its key=value
// report, building extra images with `berth import`, and snapshots of what
// a failed create must not leave behind.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/harness"
)

// tfScript is the shell prelude of every check script: st prints
// "MODE UID GID" of a path, w tries a write and prints "ok" or the error.
const tfScript = `st() { stat -c '%a %u %g' "$1"; }
w() { if out=$( (echo data > "$1") 2>&1); then echo ok; else echo "$out" | tr '\n' ' '; fi; }
`

// tfRunScript runs script with sh in a new container (removed afterwards)
// with the runtime and run flags given, and returns its key=value report.
// The script must succeed.
func tfRunScript(t *testing.T, d *harness.Daemon, rt string, flags []string, script string) map[string]string {
	t.Helper()
	return tfRunScriptIn(t, d, rt, "busybox", flags, script)
}

// tfRunScriptIn is tfRunScript with another image.
func tfRunScriptIn(t *testing.T, d *harness.Daemon, rt, image string, flags []string, script string) map[string]string {
	t.Helper()
	args := append([]string{"run", "--rm", "--network", "none", "--runtime", rt}, flags...)
	args = append(args, image, "sh", "-c", tfScript+script)
	res := d.Berth(t, args...)
	assert.Equal(t, res.ExitCode, 0, "script failed: %s", res.Combined())
	return tfParse(res.Stdout)
}

// tfExecScript runs script in a running container and returns its report.
func tfExecScript(t *testing.T, d *harness.Daemon, id, script string) map[string]string {
	t.Helper()
	res := d.Berth(t, "exec", id, "sh", "-c", tfScript+script)
	assert.Equal(t, res.ExitCode, 0, "exec script failed: %s", res.Combined())
	return tfParse(res.Stdout)
}

// tfParse reads "key=value" lines; other lines are ignored.
func tfParse(out string) map[string]string {
	kv := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" && !strings.ContainsAny(k, " \t") {
			kv[k] = strings.TrimSpace(v)
		}
	}
	return kv
}

// tfWant is one expectation on a script report: the value of Key must
// equal Equal, or contain Contains.
type tfWant struct {
	Key, Equal, Contains string
}

func tfCheck(t *testing.T, kv map[string]string, wants []tfWant) {
	t.Helper()
	for _, w := range wants {
		got, ok := kv[w.Key]
		if !ok {
			t.Errorf("%s: missing from the report %v", w.Key, kv)
			continue
		}
		if w.Contains != "" {
			if !strings.Contains(got, w.Contains) {
				t.Errorf("%s = %q, want it to contain %q", w.Key, got, w.Contains)
			}
		} else if got != w.Equal {
			t.Errorf("%s = %q, want %q", w.Key, got, w.Equal)
		}
	}
}

// tfBuildImage imports a one-layer image named ref: the host's static
// busybox with a symlink per applet, /etc/passwd and /etc/group with the
// app user (1000), and the extra entries; changes are `import --change`
// instructions (Cmd defaults to sh).
func tfBuildImage(t *testing.T, d *harness.Daemon, ref string, changes []string, extra []harness.TarEntry) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rootfs.tar")
	assert.NilError(t, os.WriteFile(path, harness.Tar(t, append(harness.BusyboxRootfs(t), extra...)), 0o600))
	args := []string{"import"}
	for _, c := range append([]string{`CMD ["sh"]`}, changes...) {
		args = append(args, "--change", c)
	}
	d.OK(t, append(args, path, ref)...)
}

// tfAtoi parses a number a script reported.
func tfAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	assert.NilError(t, err, "not a number: %q", s)
	return n
}
