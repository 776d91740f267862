package harness

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Runtimes are the OCI runtimes every runtime-dependent test runs on, each
// as a subtest named after it.
var Runtimes = []string{"runc", "crun"}

// ForRuntimes runs fn once per runtime, as a subtest, after checking that
// the runtime can start a container on this host at all. A runtime that
// cannot is a failure with the reason, never a skip.
func (d *Daemon) ForRuntimes(t *testing.T, fn func(t *testing.T, rt string)) {
	t.Helper()
	for _, rt := range Runtimes {
		t.Run(rt, func(t *testing.T) {
			d.RequireRuntime(t, rt)
			fn(t, rt)
		})
	}
}

// RequireRuntime fails the test when rt cannot run `true` here.
func (d *Daemon) RequireRuntime(t testing.TB, rt string) {
	t.Helper()
	if _, err := exec.LookPath(rt); err != nil {
		t.Fatalf("%s is not installed: run hack/install-deps", rt)
	}
	res := d.Berth(t, "run", "--rm", "--network", "none", "--runtime", rt, "busybox", "true")
	if res.ExitCode == 0 {
		return
	}
	RequireRuntimeHost(t, rt, res)
	t.Fatalf("%s cannot start a container: exit %d: %s", rt, res.ExitCode, res.Combined())
}

// RequireRuntimeHost fails with the fix when the runtime refused this
// host's hybrid cgroups (crun does while a controller is still on
// cgroup2): a test must not pass silently without the runtime having run.
func RequireRuntimeHost(t testing.TB, rt string, res Result) {
	t.Helper()
	if strings.Contains(res.Combined(), "cgroups in hybrid mode not supported") {
		t.Fatalf("%s cannot start containers on this host (hybrid cgroups: a controller is still on cgroup2): "+
			"run hack/setup-crun-host as root first (CI does); %s said: %s", rt, rt, strings.TrimSpace(res.Stderr))
	}
}

// DefaultRuntime is the runtime of the daemon's containers that name
// none: the --runtime it was given, else the one it chose at start and
// logged (crun where crun runs containers).
func (d *Daemon) DefaultRuntime(t testing.TB) string {
	t.Helper()
	if i := slices.Index(d.Args, "--runtime"); i >= 0 && i+1 < len(d.Args) {
		return d.Args[i+1]
	}
	m := regexp.MustCompile(`msg="default runtime" runtime=(\S+)`).FindStringSubmatch(d.Log())
	if m == nil {
		t.Fatalf("the daemon logged no default runtime:\n%s", d.Log())
	}
	return m[1]
}
