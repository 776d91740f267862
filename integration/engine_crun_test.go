package integration

import (
	"os/exec"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestEngineCrun: crun as a container's runtime and as the daemon's
// default gives the same results as runc.
func TestEngineCrun(t *testing.T) {
	crun, err := exec.LookPath("crun")
	assert.NilError(t, err, "crun is not installed: run hack/install-deps")
	d := harness.NewWithImage(t)

	res := d.Berth(t, "run", "--rm", "--network", "none", "--runtime", "crun", "busybox", "sh", "-c", "echo via-crun; exit 4")
	harness.RequireRuntimeHost(t, "crun", res)
	assert.Equal(t, res.ExitCode, 4, res.Combined())
	assert.Equal(t, res.Stdout, "via-crun\n")

	// The same container on both runtimes sees the same thing.
	script := "id -u; pwd; cat /run/app/config; stat -c '%a %u' /run/app; grep -E 'CapEff|CapBnd' /proc/self/status | cut -f2; " +
		"touch /x 2>&1 | grep -o 'Read-only file system'; df -k /dev/shm | tail -n 1 | awk '{print $2}'"
	var outs []string
	for _, rt := range []string{"runc", "crun"} {
		outs = append(outs, d.OK(t, "run", "--rm", "--network", "none", "--runtime", rt, "--read-only", "-u", "app", "-w", "/home/app",
			"-v", "vol-"+rt+":/run/app", "busybox", "sh", "-c", script))
	}
	assert.Equal(t, outs[0], "1000\n/home/app\nimage-config\n750 1000\n0000000000000000\n00000000a80425fb\nRead-only file system\n65536")
	assert.Equal(t, outs[1], outs[0], "crun and runc differ")

	// Lifecycle on crun: stop, logs, restart, inspect.
	d.OK(t, "run", "-d", "--name", "c1", "--network", "none", "--runtime", "crun", "busybox", "sh", "-c",
		`trap 'echo term; exit 3' TERM; echo up; while true; do sleep 0.05; done`)
	d.WaitLogs(t, "c1", "up")
	assert.Equal(t, d.Inspect(t, "c1", "{{.HostConfig.Runtime}}"), "crun")
	d.OK(t, "stop", "c1")
	assert.Equal(t, d.Inspect(t, "c1", "{{.State.ExitCode}}"), "3")
	d.OK(t, "start", "c1")
	d.WaitLogs(t, "c1", "up\nterm\nup")
	d.OK(t, "rm", "-f", "c1")

	// crun as the daemon's default runtime, by name and by path.
	for _, rt := range []string{"crun", crun} {
		dc := harness.NewWithImage(t, harness.WithArgs("--runtime", rt))
		res := dc.Berth(t, "run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo default-crun")
		harness.RequireRuntimeHost(t, "crun", res)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "default-crun\n")
		assert.Equal(t, dc.OK(t, "info", "--format", "{{.DefaultRuntime}}"), rt)
		dc.OK(t, "create", "--name", "on-default", "--network", "none", "busybox", "true")
		assert.Assert(t, is.Contains(dc.Inspect(t, "on-default", "{{.HostConfig.Runtime}}"), "crun"))
	}
}
