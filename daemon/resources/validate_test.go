package resources

import (
	"testing"

	"github.com/moby/moby/api/types/blkiodev"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// v1Host is this project's CI host: cgroup v1, no blkio weight, 2 CPUs.
var v1Host = Host{
	MemoryLimit: true, SwapLimit: true, MemoryReservation: true, OomKillDisable: true, MemorySwappiness: true,
	CPUShares: true, CPUCfs: true, CPURealtime: true, Cpuset: true, Cpus: "0-1", Mems: "0", NCPU: 2,
	PidsLimit: true, BlkioReadBpsDevice: true, BlkioWriteBpsDev: true, BlkioReadIOpsDev: true, BlkioWriteIOpsDev: true,
	HardLimits: map[string]uint64{"nofile": 20000, "nproc": 96365, "core": ^uint64(0)},
}

func i64(v int64) *int64 { return &v }
func yes() *bool         { v := true; return &v }

func TestValidate(t *testing.T) {
	t.Parallel()
	noSwap := v1Host
	noSwap.SwapLimit = false
	bare := Host{NCPU: 2}
	for _, tc := range []struct {
		name     string
		r        containertypes.Resources
		host     Host
		update   bool
		err      string
		warnings []string
		swap     int64 // MemorySwap after Validate
	}{
		{name: "none", r: containertypes.Resources{}},
		{name: "memory", r: containertypes.Resources{Memory: 32 << 20, MemorySwap: 64 << 20}, swap: 64 << 20},
		{name: "memory too small", r: containertypes.Resources{Memory: 4 << 20}, err: "Minimum memory limit allowed is 6MB"},
		{name: "swap below memory", r: containertypes.Resources{Memory: 32 << 20, MemorySwap: 16 << 20}, err: "Minimum memoryswap limit should be larger than memory limit, see usage"},
		{name: "swap without memory", r: containertypes.Resources{MemorySwap: 16 << 20}, err: "You should always set the Memory limit when using Memoryswap limit, see usage"},
		{name: "swap without memory in an update", r: containertypes.Resources{MemorySwap: 16 << 20}, update: true, swap: 16 << 20},
		{name: "swap unlimited", r: containertypes.Resources{Memory: 32 << 20, MemorySwap: -1}, swap: -1},
		{name: "swap below -1", r: containertypes.Resources{Memory: 32 << 20, MemorySwap: -2}, err: "Invalid value -2 for MemorySwap"},
		{name: "no swap accounting", r: containertypes.Resources{Memory: 32 << 20, MemorySwap: 64 << 20}, host: noSwap, swap: -1,
			warnings: []string{"Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap."}},
		{name: "no memory controller", r: containertypes.Resources{Memory: 32 << 20}, host: bare, err: "Memory is not supported on this host"},
		{name: "reservation too small", r: containertypes.Resources{MemoryReservation: 1 << 20}, err: "Minimum memory reservation allowed is 6MB"},
		{name: "reservation above limit", r: containertypes.Resources{Memory: 8 << 20, MemorySwap: -1, MemoryReservation: 16 << 20}, swap: -1,
			err: "Minimum memory limit can not be less than memory reservation limit, see usage"},
		{name: "swappiness", r: containertypes.Resources{MemorySwappiness: i64(101)}, err: "Invalid value: 101, valid memory swappiness range is 0-100"},
		{name: "oom kill disable without memory", r: containertypes.Resources{OomKillDisable: yes()},
			warnings: []string{"OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources."}},
		{name: "pids unsupported", r: containertypes.Resources{PidsLimit: i64(10)}, host: bare, err: "PidsLimit is not supported on this host"},
		{name: "nano cpus and period", r: containertypes.Resources{NanoCPUs: 5e8, CPUPeriod: 50000}, err: "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
		{name: "nano cpus and quota", r: containertypes.Resources{NanoCPUs: 5e8, CPUQuota: 50000}, err: "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
		{name: "too many cpus", r: containertypes.Resources{NanoCPUs: 3e9}, err: "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{name: "cpus", r: containertypes.Resources{NanoCPUs: 15e8}},
		{name: "period too small", r: containertypes.Resources{CPUPeriod: 999}, err: "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
		{name: "quota too small", r: containertypes.Resources{CPUQuota: 999}, err: "CPU cfs quota can not be less than 1ms (i.e. 1000)"},
		{name: "quota unlimited", r: containertypes.Resources{CPUQuota: -1}},
		{name: "rt runtime above period", r: containertypes.Resources{CPURealtimePeriod: 1000, CPURealtimeRuntime: 2000}, err: "cpu-rt-runtime cannot be higher than cpu-rt-period"},
		{name: "windows cpu count", r: containertypes.Resources{CPUCount: 1}, err: "CpuPercent and CpuCount are Windows options"},
		{name: "cpuset", r: containertypes.Resources{CpusetCpus: "0-1", CpusetMems: "0"}},
		{name: "cpuset unavailable", r: containertypes.Resources{CpusetCpus: "1,5"}, err: "Requested CPUs are not available - requested 1,5, available: 0-1"},
		{name: "cpuset bad", r: containertypes.Resources{CpusetCpus: "1-a"}, err: "Invalid value 1-a for cpuset cpus: invalid format: 1-a"},
		{name: "mems unavailable", r: containertypes.Resources{CpusetMems: "1"}, err: "Requested memory nodes are not available - requested 1, available: 0"},
		{name: "blkio weight unsupported", r: containertypes.Resources{BlkioWeight: 300}, err: "BlkioWeight is not supported on this host"},
		{name: "blkio weight range", r: containertypes.Resources{BlkioWeight: 5}, host: func() Host { h := v1Host; h.BlkioWeight = true; return h }(),
			err: "Range of blkio weight is from 10 to 1000"},
		{name: "read bps", r: containertypes.Resources{BlkioDeviceReadBps: []*blkiodev.ThrottleDevice{{Path: "/dev/vda", Rate: 1 << 20}}}},
		{name: "read bps unsupported", r: containertypes.Resources{BlkioDeviceReadBps: []*blkiodev.ThrottleDevice{{Path: "/dev/vda", Rate: 1}}}, host: bare,
			err: "BlkioDeviceReadBps is not supported on this host"},
		{name: "weight device unsupported", r: containertypes.Resources{BlkioWeightDevice: []*blkiodev.WeightDevice{{Path: "/dev/vda", Weight: 100}}},
			err: "BlkioWeightDevice is not supported on this host"},
		{name: "windows io", r: containertypes.Resources{IOMaximumIOps: 10}, err: "Invalid QoS settings"},
		{name: "ulimit", r: containertypes.Resources{Ulimits: []*containertypes.Ulimit{{Name: "nofile", Soft: 100, Hard: 200}}}},
		{name: "ulimit above daemon", r: containertypes.Resources{Ulimits: []*containertypes.Ulimit{{Name: "nofile", Soft: 100, Hard: 30000}}},
			err: "ulimit nofile: hard limit 30000 is above the daemon's own hard limit 20000"},
		{name: "ulimit unlimited above daemon", r: containertypes.Resources{Ulimits: []*containertypes.Ulimit{{Name: "nproc", Soft: -1, Hard: -1}}},
			err: "ulimit nproc: hard limit unlimited is above the daemon's own hard limit 96365"},
		{name: "ulimit unlimited", r: containertypes.Resources{Ulimits: []*containertypes.Ulimit{{Name: "core", Soft: -1, Hard: -1}}}},
		{name: "ulimit soft above hard", r: containertypes.Resources{Ulimits: []*containertypes.Ulimit{{Name: "nofile", Soft: 300, Hard: 200}}},
			err: "ulimit nofile: soft limit 300 must be less than or equal to hard limit 200"},
		{name: "ulimit unknown", r: containertypes.Resources{Ulimits: []*containertypes.Ulimit{{Name: "bogus", Soft: 1, Hard: 1}}}, err: "invalid ulimit type: bogus"},
		{name: "ulimit twice", r: containertypes.Resources{Ulimits: []*containertypes.Ulimit{{Name: "nofile", Soft: 1, Hard: 1}, {Name: "nofile", Soft: 2, Hard: 2}}},
			err: "ulimit nofile is set more than once"},
		{name: "gpus", r: containertypes.Resources{DeviceRequests: []containertypes.DeviceRequest{{Count: 1}}}, err: "DeviceRequests (--gpus) are not supported by berth"},
		{name: "cgroup parent", r: containertypes.Resources{CgroupParent: "/x"}, err: "CgroupParent is not supported by berth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := tc.host
			if h.NCPU == 0 {
				h = v1Host
			}
			r := tc.r
			warnings, err := Validate(&r, h, tc.update)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, warnings, tc.warnings)
			assert.Equal(t, r.MemorySwap, tc.swap)
		})
	}
}

func TestAdapt(t *testing.T) {
	t.Parallel()
	r := containertypes.Resources{Memory: 32 << 20, CPUShares: -5, MemorySwappiness: i64(-1)}
	Adapt(&r)
	assert.Equal(t, r.MemorySwap, int64(64<<20), "swap defaults to twice the memory")
	assert.Equal(t, r.CPUShares, int64(2))
	assert.Assert(t, r.MemorySwappiness == nil)

	r = containertypes.Resources{Memory: 32 << 20, MemorySwap: -1, CPUShares: 1 << 20}
	Adapt(&r)
	assert.Equal(t, r.MemorySwap, int64(-1))
	assert.Equal(t, r.CPUShares, int64(262144))
}

func TestMerge(t *testing.T) {
	t.Parallel()
	cur := containertypes.Resources{Memory: 32 << 20, MemorySwap: 64 << 20, CPUShares: 512, PidsLimit: i64(20)}
	for _, tc := range []struct {
		name string
		cur  containertypes.Resources
		upd  containertypes.Resources
		want containertypes.Resources
		err  string
	}{
		{name: "nothing", cur: cur, want: cur},
		{name: "memory within swap", cur: cur, upd: containertypes.Resources{Memory: 48 << 20},
			want: containertypes.Resources{Memory: 48 << 20, MemorySwap: 64 << 20, CPUShares: 512, PidsLimit: i64(20)}},
		{name: "memory above swap", cur: cur, upd: containertypes.Resources{Memory: 128 << 20},
			err: "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"},
		{name: "memory and swap", cur: cur, upd: containertypes.Resources{Memory: 128 << 20, MemorySwap: 256 << 20},
			want: containertypes.Resources{Memory: 128 << 20, MemorySwap: 256 << 20, CPUShares: 512, PidsLimit: i64(20)}},
		{name: "pids unlimited", cur: cur, upd: containertypes.Resources{PidsLimit: i64(0)},
			want: containertypes.Resources{Memory: 32 << 20, MemorySwap: 64 << 20, CPUShares: 512, PidsLimit: i64(-1)}},
		{name: "nano cpus after period", cur: containertypes.Resources{CPUPeriod: 50000}, upd: containertypes.Resources{NanoCPUs: 1e9},
			err: "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set"},
		{name: "quota after nano cpus", cur: containertypes.Resources{NanoCPUs: 1e9}, upd: containertypes.Resources{CPUQuota: 50000},
			err: "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"},
		{name: "ulimits", cur: cur, upd: containertypes.Resources{Ulimits: []*containertypes.Ulimit{{Name: "nofile", Soft: 1, Hard: 1}}},
			err: "Ulimits cannot be updated"},
		{name: "cpuset", cur: cur, upd: containertypes.Resources{CpusetCpus: "1"},
			want: containertypes.Resources{Memory: 32 << 20, MemorySwap: 64 << 20, CPUShares: 512, PidsLimit: i64(20), CpusetCpus: "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Merge(tc.cur, tc.upd)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				assert.DeepEqual(t, got, tc.cur)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestParseList(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []int
		err  bool
	}{
		{in: "", want: nil},
		{in: "0", want: []int{0}},
		{in: "0-2,5", want: []int{0, 1, 2, 5}},
		{in: "2-1", err: true},
		{in: "a", err: true},
		{in: "-1", err: true},
		{in: "1,", err: true},
		{in: "0-99999999", err: true},
	} {
		got, err := ParseList(tc.in)
		if tc.err {
			assert.Check(t, err != nil, tc.in)
			continue
		}
		assert.NilError(t, err, tc.in)
		assert.Check(t, is.Len(got, len(tc.want)), tc.in)
		for _, n := range tc.want {
			assert.Check(t, got[n], "%s: %d", tc.in, n)
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"0-2,5", "", "1-a", "3-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseList(s)
	})
}
