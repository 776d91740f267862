package runspec

import (
	"strings"

	"github.com/moby/moby/api/types/blkiodev"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/daemon/resources"
)

// DevNum is a block device's major and minor numbers.
type DevNum struct{ Major, Minor int64 }

// LinuxResources maps the validated limits of a container to the OCI
// spec's linux.resources (without device rules), as Docker does; devs
// holds the numbers of the block devices the Blkio* fields name (see
// BlockDevicePaths). The runtime's update takes the same value.
func LinuxResources(r containertypes.Resources, devs map[string]DevNum) *specs.LinuxResources {
	out := &specs.LinuxResources{}
	mem := &specs.LinuxMemory{}
	if r.Memory > 0 {
		mem.Limit = ptr(r.Memory)
	}
	if r.MemorySwap != 0 {
		mem.Swap = ptr(r.MemorySwap)
	}
	if r.MemoryReservation > 0 {
		mem.Reservation = ptr(r.MemoryReservation)
	}
	if r.MemorySwappiness != nil && *r.MemorySwappiness >= 0 {
		mem.Swappiness = ptr(uint64(*r.MemorySwappiness))
	}
	if r.OomKillDisable != nil {
		mem.DisableOOMKiller = ptr(*r.OomKillDisable)
	}
	if *mem != (specs.LinuxMemory{}) {
		out.Memory = mem
	}

	cpu := &specs.LinuxCPU{Cpus: r.CpusetCpus, Mems: r.CpusetMems}
	if r.CPUShares != 0 {
		cpu.Shares = ptr(uint64(r.CPUShares))
	}
	switch {
	case r.NanoCPUs > 0:
		cpu.Period = ptr(uint64(resources.CFSPeriod))
		cpu.Quota = ptr(r.NanoCPUs * resources.CFSPeriod / 1e9)
	default:
		if r.CPUPeriod != 0 {
			cpu.Period = ptr(uint64(r.CPUPeriod))
		}
		if r.CPUQuota != 0 {
			cpu.Quota = ptr(r.CPUQuota)
		}
	}
	if r.CPURealtimePeriod != 0 {
		cpu.RealtimePeriod = ptr(uint64(r.CPURealtimePeriod))
	}
	if r.CPURealtimeRuntime != 0 {
		cpu.RealtimeRuntime = ptr(r.CPURealtimeRuntime)
	}
	if cpu.Shares != nil || cpu.Period != nil || cpu.Quota != nil || cpu.RealtimePeriod != nil || cpu.RealtimeRuntime != nil || cpu.Cpus != "" || cpu.Mems != "" {
		out.CPU = cpu
	}

	if r.PidsLimit != nil && *r.PidsLimit != 0 {
		out.Pids = &specs.LinuxPids{Limit: ptr(*r.PidsLimit)}
	}

	blk := &specs.LinuxBlockIO{}
	if r.BlkioWeight > 0 {
		blk.Weight = ptr(r.BlkioWeight)
	}
	for _, w := range r.BlkioWeightDevice {
		d := devs[w.Path]
		wd := specs.LinuxWeightDevice{Weight: ptr(w.Weight)}
		wd.Major, wd.Minor = d.Major, d.Minor
		blk.WeightDevice = append(blk.WeightDevice, wd)
	}
	blk.ThrottleReadBpsDevice = throttle(r.BlkioDeviceReadBps, devs)
	blk.ThrottleWriteBpsDevice = throttle(r.BlkioDeviceWriteBps, devs)
	blk.ThrottleReadIOPSDevice = throttle(r.BlkioDeviceReadIOps, devs)
	blk.ThrottleWriteIOPSDevice = throttle(r.BlkioDeviceWriteIOps, devs)
	if blk.Weight != nil || blk.WeightDevice != nil || blk.ThrottleReadBpsDevice != nil || blk.ThrottleWriteBpsDevice != nil ||
		blk.ThrottleReadIOPSDevice != nil || blk.ThrottleWriteIOPSDevice != nil {
		out.BlockIO = blk
	}
	return out
}

func throttle(list []*blkiodev.ThrottleDevice, devs map[string]DevNum) []specs.LinuxThrottleDevice {
	var out []specs.LinuxThrottleDevice
	for _, t := range list {
		d := devs[t.Path]
		td := specs.LinuxThrottleDevice{Rate: t.Rate}
		td.Major, td.Minor = d.Major, d.Minor
		out = append(out, td)
	}
	return out
}

// BlockDevicePaths lists the device paths the Blkio* fields of r name:
// the daemon looks up their numbers.
func BlockDevicePaths(r containertypes.Resources) []string {
	var paths []string
	for _, w := range r.BlkioWeightDevice {
		paths = append(paths, w.Path)
	}
	for _, list := range [][]*blkiodev.ThrottleDevice{r.BlkioDeviceReadBps, r.BlkioDeviceWriteBps, r.BlkioDeviceReadIOps, r.BlkioDeviceWriteIOps} {
		for _, t := range list {
			paths = append(paths, t.Path)
		}
	}
	return paths
}

// Rlimits are the rlimits of a container: the open-file limit is the
// daemon's own hard limit (capped at Docker's default of 1048576), and
// the user's ulimits (validated at create to stay within the daemon's hard
// limits) replace defaults of the same name.
func Rlimits(ulimits []*containertypes.Ulimit, hardNofile uint64) []specs.POSIXRlimit {
	var out []specs.POSIXRlimit
	user := map[string]bool{}
	for _, u := range ulimits {
		if u != nil {
			user[u.Name] = true
		}
	}
	if hardNofile != 0 && !user["nofile"] {
		n := min(hardNofile, maxNofile)
		out = append(out, specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: n, Soft: n})
	}
	for _, u := range ulimits {
		if u == nil {
			continue
		}
		out = append(out, specs.POSIXRlimit{Type: "RLIMIT_" + strings.ToUpper(u.Name), Soft: uint64(u.Soft), Hard: uint64(u.Hard)})
	}
	return out
}

func ptr[T any](v T) *T { return &v }
