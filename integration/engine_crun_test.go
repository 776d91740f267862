package integration

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestEngineDefaultRuntime: without --runtime, the daemon probes crun once
// at start and makes it the default where it runs a container, and falls
// back to runc, saying why, where it does not; a configured runtime is
// used without a probe.
func TestEngineDefaultRuntime(t *testing.T) {
	d := harness.NewWithImage(t, harness.WithProbedRuntime())
	d.RequireRuntime(t, "crun")
	assert.Equal(t, d.OK(t, "info", "--format", "{{.DefaultRuntime}}"), "crun")
	assert.Assert(t, is.Contains(d.Log(), `msg="default runtime" runtime=crun`))
	d.OK(t, "create", "--name", "auto", "--network", "none", "busybox", "true")
	assert.Equal(t, d.Inspect(t, "auto", "{{.HostConfig.Runtime}}"), "crun")
	assert.Equal(t, d.OK(t, "start", "-a", "auto"), "")
	// The probe leaves nothing in the exec root.
	_, err := os.Stat(filepath.Join(d.ExecRoot, "runtime-probe"))
	assert.Assert(t, os.IsNotExist(err), "probe directory left: %v", err)

	// A crun that cannot run containers here (as crun 1.8 on hybrid
	// cgroups): the daemon runs on runc and logs crun's message.
	fake := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(fake, "crun"),
		[]byte("#!/bin/sh\necho 'cgroups in hybrid mode not supported, drop all controllers from cgroupv2' >&2\nexit 1\n"), 0o755))
	t.Setenv("PATH", fake+string(os.PathListSeparator)+os.Getenv("PATH"))
	dr := harness.NewWithImage(t, harness.WithProbedRuntime())
	assert.Equal(t, dr.OK(t, "info", "--format", "{{.DefaultRuntime}}"), "runc")
	assert.Assert(t, is.Contains(dr.Log(), `msg="default runtime" runtime=runc reason="crun cannot run containers on this host: cgroups in hybrid mode not supported`))
	assert.Equal(t, dr.OK(t, "run", "--rm", "--network", "none", "busybox", "echo", "on-runc"), "on-runc")

	// Configured: no probe (the broken crun would be refused otherwise).
	dc := harness.NewWithImage(t, harness.WithArgs("--runtime", "runc"))
	assert.Equal(t, dc.OK(t, "info", "--format", "{{.DefaultRuntime}}"), "runc")
	assert.Assert(t, is.Contains(dc.Log(), `msg="default runtime" runtime=runc reason=configured`))
}
