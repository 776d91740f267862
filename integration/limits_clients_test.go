package integration

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestLimitsDockerCLI drives limits with both docker CLIs: run with a
// memory limit, an OOM kill seen by inspect, docker update of a running
// container (limits and restart policy), and docker stats showing the
// new limit.
func TestLimitsDockerCLI(t *testing.T) {
	tg := harness.NewTarget(t)
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		oom := c.Name("oom")
		c.Fails(t, 137, "", "run", "--name", oom, "-m", "32m", "--memory-swap", "32m", "busybox", "sh", "-c", oomScript)
		assert.Equal(t, c.Inspect(t, oom, "{{.State.OOMKilled}} {{.State.ExitCode}}"), "true 137")
		c.OK(t, "rm", oom)

		name := c.RunDetached(t, "limited", "-m", "32m", "--pids-limit", "20", "busybox", "sleep", "300")
		defer c.Run(t, "rm", "-f", name)
		assert.Equal(t, c.OK(t, "exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"), "33554432\n")
		assert.Equal(t, c.OK(t, "update", "-m", "64m", "--memory-swap", "128m", "--restart", "on-failure:3", name), name+"\n")
		assert.Equal(t, c.OK(t, "exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
			"67108864\n134217728\n")
		assert.Equal(t, c.Inspect(t, name, "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"),
			"67108864 20 on-failure:3")
		assert.Check(t, is.Contains(c.OK(t, "stats", "--no-stream", "--format", "{{.MemUsage}}", name), "/ 64MiB"))
		c.Fails(t, 1, "Memory limit should be smaller than already set memoryswap limit", "update", "-m", "256m", name)
	})
}

const sdkLimitsScript = `
import sys
import docker

c = docker.DockerClient(base_url=sys.argv[1])
out = c.containers.run("busybox", ["sh", "-c",
    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; ulimit -n"],
    mem_limit="48m", pids_limit=25, nano_cpus=500000000, network_mode="none",
    ulimits=[docker.types.Ulimit(name="nofile", soft=128, hard=256)], remove=True)
print("run", " ".join(out.decode().split()))

ct = c.containers.run("busybox", ["sleep", "300"], detach=True, mem_limit="32m", network_mode="none")
ct.update(mem_limit="64m", memswap_limit="128m")
ec, out = ct.exec_run(["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"])
print("updated", out.decode().strip())
ct.reload()
print("inspect", ct.attrs["HostConfig"]["Memory"], ct.attrs["HostConfig"]["MemorySwap"])
ct.remove(force=True)

try:
    c.containers.create("busybox", "true", mem_limit="4m")
except docker.errors.APIError as e:
    print("refused", e.status_code, e.explanation)
`

// TestLimitsSDKPython sets limits with the Python SDK: run with mem_limit,
// pids_limit, nano_cpus and ulimits, container.update, and a refusal.
func TestLimitsSDKPython(t *testing.T) {
	harness.RequireTool(t, sdkPython)
	d := harness.NewWithImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, sdkPython, "-c", sdkLimitsScript, d.Host()).CombinedOutput()
	assert.NilError(t, err, string(out))
	got := string(out)
	assert.Check(t, is.Contains(got, "run 50331648 25 128\n"))
	assert.Check(t, is.Contains(got, "updated 67108864\n"))
	assert.Check(t, is.Contains(got, "inspect 67108864 134217728\n"))
	assert.Check(t, is.Contains(got, "refused 400 Minimum memory limit allowed is 6MB\n"))
}
