package integration

import (
	"os/exec"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// engNeedCrunHost fails with the fix when crun refuses this host's hybrid
// cgroups: the test must not pass silently without crun having run.
func engNeedCrunHost(t *testing.T, output string) {
	t.Helper()
	if strings.Contains(output, "cgroups in hybrid mode not supported") {
		t.Fatalf("crun refuses this host's hybrid cgroups; run hack/setup-crun-host (as root) to move hugetlb to a v1 hierarchy, then run the test again:\n%s", output)
	}
}

// TestEngineCrun: crun as a container's runtime and as the daemon's
// default gives the same results as runc.
func TestEngineCrun(t *testing.T) {
	crun, err := exec.LookPath("crun")
	assert.NilError(t, err, "crun is not installed: run hack/install-deps")
	d := engDaemon(t)

	res := d.Berth(t, "run", "--rm", "--network", "none", "--runtime", "crun", "busybox", "sh", "-c", "echo via-crun; exit 4")
	engNeedCrunHost(t, res.Combined())
	assert.Equal(t, res.ExitCode, 4, res.Combined())
	assert.Equal(t, res.Stdout, "via-crun\n")

	// The same container on both runtimes sees the same thing.
	script := "id -u; pwd; cat /run/app/config; stat -c '%a %u' /run/app; grep -E 'CapEff|CapBnd' /proc/self/status | cut -f2; " +
		"touch /x 2>&1 | grep -o 'Read-only file system'; df -k /dev/shm | tail -n 1 | awk '{print $2}'"
	var outs []string
	for _, rt := range []string{"runc", "crun"} {
		outs = append(outs, engOK(t, d, "run", "--rm", "--network", "none", "--runtime", rt, "--read-only", "-u", "app", "-w", "/home/app",
			"-v", "vol-"+rt+":/run/app", "busybox", "sh", "-c", script))
	}
	assert.Equal(t, outs[0], "1000\n/home/app\nimage-config\n750 1000\n0000000000000000\n00000000a80425fb\nRead-only file system\n65536")
	assert.Equal(t, outs[1], outs[0], "crun and runc differ")

	// Lifecycle on crun: stop, logs, restart, inspect.
	engOK(t, d, "run", "-d", "--name", "c1", "--network", "none", "--runtime", "crun", "busybox", "sh", "-c",
		`trap 'echo term; exit 3' TERM; echo up; while true; do sleep 0.05; done`)
	engWaitLogs(t, d, "c1", "up")
	assert.Equal(t, engInspect(t, d, "c1", "{{.HostConfig.Runtime}}"), "crun")
	engOK(t, d, "stop", "c1")
	assert.Equal(t, engInspect(t, d, "c1", "{{.State.ExitCode}}"), "3")
	engOK(t, d, "start", "c1")
	engWaitLogs(t, d, "c1", "up\nterm\nup")
	engOK(t, d, "rm", "-f", "c1")

	// crun as the daemon's default runtime, by name and by path.
	for _, rt := range []string{"crun", crun} {
		dc := engDaemon(t, harness.WithArgs("--runtime", rt))
		res := dc.Berth(t, "run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo default-crun")
		engNeedCrunHost(t, res.Combined())
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "default-crun\n")
		assert.Equal(t, engOK(t, dc, "info", "--format", "{{.DefaultRuntime}}"), rt)
		engOK(t, dc, "create", "--name", "on-default", "--network", "none", "busybox", "true")
		assert.Assert(t, is.Contains(engInspect(t, dc, "on-default", "{{.HostConfig.Runtime}}"), "crun"))
	}
}
