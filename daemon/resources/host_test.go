package resources

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

func TestProbeV1(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, f := range []string{
		"memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes", "memory/memory.oom_control",
		"cpu/cpu.shares", "cpu/cpu.cfs_period_us", "cpu/cpu.cfs_quota_us",
		"cpuset/cpuset.cpus", "cpuset/cpuset.mems", "pids/tasks",
		"blkio/blkio.throttle.read_bps_device",
	} {
		p := filepath.Join(root, f)
		assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(t, os.WriteFile(p, []byte("0-1\n"), 0o644))
	}
	h := Probe(root)
	assert.Check(t, !h.CgroupV2)
	assert.Check(t, h.MemoryLimit && h.SwapLimit && h.OomKillDisable)
	assert.Check(t, !h.MemoryReservation, "no memory.soft_limit_in_bytes")
	assert.Check(t, h.CPUShares && h.CPUCfs && !h.CPURealtime)
	assert.Check(t, h.Cpuset)
	assert.Equal(t, h.Cpus, "0-1")
	assert.Check(t, h.PidsLimit)
	assert.Check(t, h.BlkioReadBpsDevice && !h.BlkioWriteBpsDev && !h.BlkioWeight)
	assert.Check(t, h.HardLimits["nofile"] > 0, "the test's own hard limit")
}
