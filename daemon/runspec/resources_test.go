package runspec

import (
	"testing"

	"github.com/moby/moby/api/types/blkiodev"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
)

func TestLinuxResources(t *testing.T) {
	t.Parallel()
	devs := map[string]DevNum{"/dev/vda": {Major: 254, Minor: 0}}
	for _, tc := range []struct {
		name string
		r    containertypes.Resources
		want *specs.LinuxResources
	}{
		{name: "none", want: &specs.LinuxResources{}},
		{name: "memory", r: containertypes.Resources{Memory: 32 << 20, MemorySwap: 64 << 20, MemoryReservation: 16 << 20, OomKillDisable: ptr(true), MemorySwappiness: ptr(int64(10))},
			want: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(32 << 20)), Swap: ptr(int64(64 << 20)), Reservation: ptr(int64(16 << 20)),
				DisableOOMKiller: ptr(true), Swappiness: ptr(uint64(10))}}},
		{name: "unlimited swap", r: containertypes.Resources{Memory: 32 << 20, MemorySwap: -1},
			want: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(32 << 20)), Swap: ptr(int64(-1))}}},
		{name: "nano cpus", r: containertypes.Resources{NanoCPUs: 1500000000, CPUShares: 512},
			want: &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(512)), Period: ptr(uint64(100000)), Quota: ptr(int64(150000))}}},
		{name: "period and quota", r: containertypes.Resources{CPUPeriod: 50000, CPUQuota: 25000, CpusetCpus: "1", CpusetMems: "0"},
			want: &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr(uint64(50000)), Quota: ptr(int64(25000)), Cpus: "1", Mems: "0"}}},
		{name: "pids", r: containertypes.Resources{PidsLimit: ptr(int64(20))}, want: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(20))}}},
		{name: "pids unlimited after an update", r: containertypes.Resources{PidsLimit: ptr(int64(-1))}, want: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(-1))}}},
		{name: "blkio", r: containertypes.Resources{
			BlkioDeviceReadBps:   []*blkiodev.ThrottleDevice{{Path: "/dev/vda", Rate: 1 << 20}},
			BlkioDeviceWriteIOps: []*blkiodev.ThrottleDevice{{Path: "/dev/vda", Rate: 100}},
		}, want: &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 254}, Rate: 1 << 20}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 254}, Rate: 100}},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.DeepEqual(t, LinuxResources(tc.r, devs), tc.want)
		})
	}
}

func TestRlimitsWithUlimits(t *testing.T) {
	t.Parallel()
	got := Rlimits([]*containertypes.Ulimit{{Name: "nproc", Soft: 50, Hard: 60}}, 20000)
	assert.DeepEqual(t, got, []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000},
		{Type: "RLIMIT_NPROC", Soft: 50, Hard: 60},
	})
	// The user's nofile replaces the daemon's default.
	got = Rlimits([]*containertypes.Ulimit{{Name: "nofile", Soft: 100, Hard: 200}}, 20000)
	assert.DeepEqual(t, got, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}})
	// Unlimited is RLIM_INFINITY.
	got = Rlimits([]*containertypes.Ulimit{{Name: "core", Soft: -1, Hard: -1}}, 0)
	assert.DeepEqual(t, got, []specs.POSIXRlimit{{Type: "RLIMIT_CORE", Soft: ^uint64(0), Hard: ^uint64(0)}})
}
