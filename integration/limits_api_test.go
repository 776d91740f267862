package integration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/moby/api/types/system"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestLimitsRefused checks that limits Berth cannot apply here, or that
// are invalid, are refused at create with a 400 and Docker's message,
// through the API and the berth CLI, leaving nothing behind.
func TestLimitsRefused(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.Snapshot(t)
	create := func(hc map[string]any) map[string]any {
		return map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "HostConfig": hc}
	}
	for _, tc := range []struct {
		hc   map[string]any
		want string
	}{
		{map[string]any{"Memory": 4 << 20}, "Minimum memory limit allowed is 6MB"},
		{map[string]any{"Memory": 32 << 20, "MemorySwap": 16 << 20}, "Minimum memoryswap limit should be larger than memory limit, see usage"},
		{map[string]any{"MemorySwap": 16 << 20}, "You should always set the Memory limit when using Memoryswap limit, see usage"},
		{map[string]any{"MemoryReservation": 1 << 20}, "Minimum memory reservation allowed is 6MB"},
		{map[string]any{"NanoCpus": 500000000, "CpuPeriod": 50000}, "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
		{map[string]any{"NanoCpus": 500000000, "CpuQuota": 50000}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
		{map[string]any{"NanoCpus": 64000000000}, "Range of CPUs is from 0.01 to"},
		{map[string]any{"CpuPeriod": 10}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
		{map[string]any{"CpusetCpus": "4096"}, "Requested CPUs are not available - requested 4096, available: "},
		{map[string]any{"CpusetCpus": "0-x"}, "Invalid value 0-x for cpuset cpus: invalid format: 0-x"},
		{map[string]any{"CpusetMems": "64"}, "Requested memory nodes are not available - requested 64, available: "},
		{map[string]any{"MemorySwappiness": 200}, "Invalid value: 200, valid memory swappiness range is 0-100"},
		{map[string]any{"OomScoreAdj": 1001}, "Invalid value 1001, range for oom score adj is [-1000, 1000]"},
		{map[string]any{"Ulimits": []map[string]any{{"Name": "nofile", "Soft": 1024, "Hard": 1 << 30}}},
			"ulimit nofile: hard limit 1073741824 is above the daemon's own hard limit"},
		{map[string]any{"Ulimits": []map[string]any{{"Name": "nofile", "Soft": 300, "Hard": 200}}},
			"ulimit nofile: soft limit 300 must be less than or equal to hard limit 200"},
		{map[string]any{"Ulimits": []map[string]any{{"Name": "bogus", "Soft": 1, "Hard": 1}}}, "invalid ulimit type: bogus"},
		{map[string]any{"BlkioDeviceReadBps": []map[string]any{{"Path": "/dev/nonexistent", "Rate": 1024}}},
			"invalid device /dev/nonexistent for a Block I/O limit"},
		{map[string]any{"BlkioDeviceWriteIOps": []map[string]any{{"Path": "/dev/null", "Rate": 10}}},
			"invalid device /dev/null for a Block I/O limit: not a block device"},
		{map[string]any{"CgroupParent": "/elsewhere"}, "CgroupParent is not supported by berth"},
	} {
		r := d.API(t, "POST", "/containers/create", create(tc.hc))
		assert.Check(t, is.Equal(r.Status, 400), "%v: %s", tc.hc, r.Body)
		assert.Check(t, is.Contains(r.Message(), tc.want), "%v", tc.hc)
	}
	// Block I/O weight needs blkio.weight (CFQ or BFQ): refused where the
	// host has neither, applied where it does.
	if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.weight"); err != nil {
		r := d.API(t, "POST", "/containers/create", create(map[string]any{"BlkioWeight": 300}))
		assert.Check(t, is.Equal(r.Status, 400))
		assert.Check(t, is.Contains(r.Message(), "BlkioWeight is not supported on this host"))
	}
	// KernelMemory: refused from the API versions that have it; API 1.42
	// removed the field.
	r := d.API(t, "POST", "/v1.41/containers/create", create(map[string]any{"KernelMemory": 32 << 20}))
	assert.Check(t, is.Equal(r.Status, 400))
	assert.Check(t, is.Contains(r.Message(), "KernelMemory is not supported"))

	// The berth CLI: exit status 125 with the daemon's message, or its
	// own for flags it parses.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-m", "4m"}, "Minimum memory limit allowed is 6MB"},
		{[]string{"--cpus", "0.5", "--cpu-quota", "50000"}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
		{[]string{"--ulimit", "nofile=1073741824"}, "above the daemon's own hard limit"},
		{[]string{"--oom-score-adj", "-1001"}, "range for oom score adj is [-1000, 1000]"},
		{[]string{"--kernel-memory", "32m"}, "--kernel-memory is not supported"},
		{[]string{"--device-read-bps", "/dev/vda:fast"}, "invalid rate for device"},
		{[]string{"--cpus", "abc"}, "failed to parse abc as a rational number"},
	} {
		d.Fails(t, 125, []string{tc.want}, append(append([]string{"create", "--network", "none"}, tc.args...), "busybox", "true")...)
	}
	d.AssertUnchanged(t, before, "refused limits")
}

// TestLimitsInfo checks that info reports what this host's cgroups can
// limit, as dockerd does here.
func TestLimitsInfo(t *testing.T) {
	d := harness.New(t)
	var info system.Info
	d.API(t, "GET", "/info", nil).Decode(t, 200, &info)
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	if info.CgroupVersion == "1" {
		assert.Equal(t, info.MemoryLimit, exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
		assert.Equal(t, info.SwapLimit, exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"))
		assert.Equal(t, info.OomKillDisable, exists("/sys/fs/cgroup/memory/memory.oom_control"))
		assert.Equal(t, info.CPUCfsQuota, exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"))
		assert.Equal(t, info.CPUCfsPeriod, exists("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
		assert.Equal(t, info.CPUShares, exists("/sys/fs/cgroup/cpu/cpu.shares"))
		assert.Equal(t, info.CPUSet, exists("/sys/fs/cgroup/cpuset/cpuset.cpus"))
		assert.Equal(t, info.PidsLimit, exists("/sys/fs/cgroup/pids"))
	}
	// This CI host (see HOST-NOTES.md): dockerd reports all of them.
	assert.Check(t, info.MemoryLimit && info.SwapLimit && info.CPUCfsQuota && info.CPUShares && info.CPUSet && info.PidsLimit)
	fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	assert.NilError(t, err)
	assert.Equal(t, info.IPv4Forwarding, string(fwd) == "1\n")
}

// TestLimitsUpdateRestartPolicy checks that a restart policy set by update
// on a running container decides what happens when it exits, and that
// update refuses what Docker refuses.
func TestLimitsUpdateRestartPolicy(t *testing.T) {
	d := harness.NewWithImage(t)
	// The stop file comes from the host: an exec creating it could be
	// killed with the container it makes exit (137), as in Docker.
	ctl := t.TempDir()
	d.OK(t, "run", "-d", "--name", "rp", "--network", "none", "-v", ctl+":/ctl", "busybox", "sh", "-c",
		"while [ ! -f /ctl/stop ]; do sleep 0.1; done; exit 3")
	assert.Equal(t, d.OK(t, "update", "--restart", "on-failure:1", "rp"), "rp")
	assert.NilError(t, os.WriteFile(filepath.Join(ctl, "stop"), nil, 0o644))
	// Exits with 3, restarts once (the file stays in the mounted directory),
	// exits again and stays exited.
	harness.Poll(t, func() (bool, string) {
		got := d.Inspect(t, "rp", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}")
		return got == "exited 3 1", got
	})

	r := d.API(t, "POST", "/containers/rp/update", map[string]any{"RestartPolicy": map[string]any{"Name": "sometimes"}})
	assert.Equal(t, r.Status, 400)
	assert.Check(t, is.Contains(r.Message(), "invalid restart policy: unknown policy 'sometimes'"))
	r = d.API(t, "POST", "/v1.41/containers/rp/update", map[string]any{"KernelMemory": 32 << 20})
	assert.Equal(t, r.Status, 400)
	assert.Check(t, is.Contains(r.Message(), "KernelMemory is not supported"))
	r = d.API(t, "POST", "/containers/nosuch/update", map[string]any{"Memory": 32 << 20})
	assert.Equal(t, r.Status, 404)
	d.Fails(t, 1, []string{"you must provide one or more flags when using this command"}, "update", "rp")

	d.OK(t, "run", "-d", "--rm", "--name", "ar", "--network", "none", "busybox", "sleep", "300")
	r = d.API(t, "POST", "/containers/ar/update", map[string]any{"RestartPolicy": map[string]any{"Name": "always"}})
	assert.Equal(t, r.Status, 409)
	assert.Equal(t, r.Message(), "Restart policy cannot be updated because AutoRemove is enabled for the container")
	assert.Equal(t, d.Inspect(t, "rp", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"), "on-failure:1")
}
