package daemon

import (
	"os"
	"path/filepath"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
)

func TestReadCgroupStats(t *testing.T) {
	t.Parallel()
	root, proc := t.TempDir(), t.TempDir()
	id := "abc"
	write := func(dir, name, content string) {
		assert.NilError(t, os.MkdirAll(dir, 0o755))
		assert.NilError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	cg := func(ctrl string) string { return filepath.Join(root, ctrl, "berth", id) }
	write(cg("cpuacct"), "cpuacct.usage", "123456789\n")
	write(cg("cpuacct"), "cpuacct.usage_percpu", "100 200 \n")
	write(cg("cpuacct"), "cpuacct.stat", "user 5\nsystem 7\n")
	write(cg("cpu"), "cpu.stat", "nr_periods 3\nnr_throttled 1\nthrottled_time 99\n")
	write(cg("memory"), "memory.usage_in_bytes", "4096\n")
	write(cg("memory"), "memory.max_usage_in_bytes", "8192\n")
	write(cg("memory"), "memory.limit_in_bytes", "9223372036854771712\n")
	write(cg("memory"), "memory.stat", "cache 10\ntotal_inactive_file 20\n")
	write(cg("pids"), "pids.current", "2\n")
	write(cg("pids"), "pids.max", "max\n")
	write(cg("blkio"), "blkio.throttle.io_service_bytes_recursive", "8:0 Read 512\n8:0 Write 1024\nTotal 1536\n")
	write(proc, "stat", "cpu  10 20 30 40 50 60 70 80 90 100\ncpu0 1 2 3 4 5 6 7 8 0 0\ncpu1 1 2 3 4 5 6 7 8 0 0\nintr 1\n")
	write(proc, "meminfo", "MemTotal:       1000 kB\nMemFree: 5 kB\n")

	var s containertypes.StatsResponse
	readCgroupStats(root, proc, id, &s)
	assert.Check(t, !s.Read.IsZero())
	assert.DeepEqual(t, s.CPUStats.CPUUsage, containertypes.CPUUsage{
		TotalUsage:        123456789,
		PercpuUsage:       []uint64{100, 200},
		UsageInUsermode:   50_000_000,
		UsageInKernelmode: 70_000_000,
	})
	assert.Equal(t, s.CPUStats.SystemUsage, uint64(10+20+30+40+50+60+70)*10_000_000)
	assert.Equal(t, s.CPUStats.OnlineCPUs, uint32(2))
	assert.Equal(t, s.CPUStats.ThrottlingData, containertypes.ThrottlingData{Periods: 3, ThrottledPeriods: 1, ThrottledTime: 99})
	assert.Equal(t, s.MemoryStats.Usage, uint64(4096))
	assert.Equal(t, s.MemoryStats.MaxUsage, uint64(8192))
	assert.Equal(t, s.MemoryStats.Limit, uint64(1000*1024), "no limit: the host's memory")
	assert.DeepEqual(t, s.MemoryStats.Stats, map[string]uint64{"cache": 10, "total_inactive_file": 20})
	assert.Equal(t, s.PidsStats, containertypes.PidsStats{Current: 2})
	assert.DeepEqual(t, s.BlkioStats.IoServiceBytesRecursive, []containertypes.BlkioStatEntry{
		{Major: 8, Minor: 0, Op: "Read", Value: 512},
		{Major: 8, Minor: 0, Op: "Write", Value: 1024},
	})

	// A container without cgroup reads as zero, not as an error.
	var empty containertypes.StatsResponse
	readCgroupStats(root, proc, "gone", &empty)
	assert.Equal(t, empty.MemoryStats.Usage, uint64(0))
	assert.Equal(t, empty.CPUStats.OnlineCPUs, uint32(2))
}
