package container

import (
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
)

func TestStatsRowOf(t *testing.T) {
	t.Parallel()
	s := containertypes.StatsResponse{ID: "0123456789abcdef", Name: "/web"}
	s.PreCPUStats.CPUUsage.TotalUsage, s.CPUStats.CPUUsage.TotalUsage = 1000, 3000
	s.PreCPUStats.SystemUsage, s.CPUStats.SystemUsage = 10000, 18000
	s.CPUStats.OnlineCPUs = 2
	s.MemoryStats.Usage, s.MemoryStats.Limit = 300<<20, 1<<30
	s.MemoryStats.Stats = map[string]uint64{"inactive_file": 44 << 20}
	s.Networks = map[string]containertypes.NetworkStats{"eth0": {RxBytes: 1500, TxBytes: 2000}}
	s.BlkioStats.IoServiceBytesRecursive = []containertypes.BlkioStatEntry{{Op: "Read", Value: 4096}, {Op: "write", Value: 1 << 20}}
	s.PidsStats.Current = 3
	assert.DeepEqual(t, statsRowOf("web", s), StatsRow{
		ID: "0123456789ab", Container: "web", Name: "web",
		CPUPerc: "50.00%", MemUsage: "256MiB / 1GiB", MemPerc: "25.00%",
		NetIO: "1.5kB / 2kB", BlockIO: "4.1kB / 1.05MB", PIDs: "3",
	})
	// No previous sample: no CPU share rather than a huge one.
	assert.Equal(t, statsRowOf("x", containertypes.StatsResponse{}).CPUPerc, "0.00%")
}
