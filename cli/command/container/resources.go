package container

import (
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/blkiodev"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"

	"github.com/berth-project/berth/cli/opts"
)

// errKernelMemory refuses --kernel-memory: the API has no such field since
// 1.42 (Docker ignores it) and kernels since 6.x cannot enforce it.
var errKernelMemory = errdefs.ErrInvalidArgument.WithMessage("--kernel-memory is not supported: kernel memory limits are deprecated by the kernel and were removed in API 1.42")

// resourceOptions holds the resource limit flags of run, create and (in
// part) update, with Docker's names.
type resourceOptions struct {
	memory            opts.MemBytes
	memorySwap        opts.MemSwapBytes
	memoryReservation opts.MemBytes
	kernelMemory      opts.MemBytes
	memorySwappiness  int64
	oomKillDisable    bool
	cpus              opts.NanoCPUs
	cpuShares         int64
	cpuPeriod         int64
	cpuQuota          int64
	cpuRtPeriod       int64
	cpuRtRuntime      int64
	cpusetCpus        string
	cpusetMems        string
	pidsLimit         int64
	blkioWeight       uint16
	blkioWeightDevice []string
	deviceReadBps     []string
	deviceWriteBps    []string
	deviceReadIOps    []string
	deviceWriteIOps   []string
	ulimits           []string
	oomScoreAdj       int
}

// addUpdateResourceFlags declares the limits `update` can change too.
func addUpdateResourceFlags(flags *pflag.FlagSet, r *resourceOptions) {
	flags.VarP(&r.memory, "memory", "m", "Memory limit")
	flags.Var(&r.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
	flags.Var(&r.memoryReservation, "memory-reservation", "Memory soft limit")
	flags.Var(&r.kernelMemory, "kernel-memory", "Kernel memory limit (not supported: refused)")
	flags.Var(&r.cpus, "cpus", "Number of CPUs")
	flags.Int64VarP(&r.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	flags.Int64Var(&r.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	flags.Int64Var(&r.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	flags.Int64Var(&r.cpuRtPeriod, "cpu-rt-period", 0, "Limit CPU real-time period in microseconds")
	flags.Int64Var(&r.cpuRtRuntime, "cpu-rt-runtime", 0, "Limit CPU real-time runtime in microseconds")
	flags.StringVar(&r.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	flags.StringVar(&r.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	flags.Int64Var(&r.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	flags.Uint16Var(&r.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)")
}

// addResourceFlags declares every limit flag of run and create.
func addResourceFlags(flags *pflag.FlagSet, r *resourceOptions) {
	addUpdateResourceFlags(flags, r)
	flags.Int64Var(&r.memorySwappiness, "memory-swappiness", -1, "Tune container memory swappiness (0 to 100)")
	flags.BoolVar(&r.oomKillDisable, "oom-kill-disable", false, "Disable OOM Killer")
	flags.StringArrayVar(&r.blkioWeightDevice, "blkio-weight-device", nil, "Block IO weight (relative device weight)")
	flags.StringArrayVar(&r.deviceReadBps, "device-read-bps", nil, "Limit read rate (bytes per second) from a device")
	flags.StringArrayVar(&r.deviceWriteBps, "device-write-bps", nil, "Limit write rate (bytes per second) to a device")
	flags.StringArrayVar(&r.deviceReadIOps, "device-read-iops", nil, "Limit read rate (IO per second) from a device")
	flags.StringArrayVar(&r.deviceWriteIOps, "device-write-iops", nil, "Limit write rate (IO per second) to a device")
	flags.StringArrayVar(&r.ulimits, "ulimit", nil, "Ulimit options")
	flags.IntVar(&r.oomScoreAdj, "oom-score-adj", 0, "Tune host's OOM preferences (-1000 to 1000)")
}

// resources returns the API's Resources for the flags given. PidsLimit
// and OomKillDisable are sent only when given, as Docker's CLI.
func (r *resourceOptions) resources(flags *pflag.FlagSet) (containertypes.Resources, error) {
	if r.kernelMemory != 0 {
		return containertypes.Resources{}, errKernelMemory
	}
	res := containertypes.Resources{
		Memory:             int64(r.memory),
		MemorySwap:         int64(r.memorySwap),
		MemoryReservation:  int64(r.memoryReservation),
		NanoCPUs:           int64(r.cpus),
		CPUShares:          r.cpuShares,
		CPUPeriod:          r.cpuPeriod,
		CPUQuota:           r.cpuQuota,
		CPURealtimePeriod:  r.cpuRtPeriod,
		CPURealtimeRuntime: r.cpuRtRuntime,
		CpusetCpus:         r.cpusetCpus,
		CpusetMems:         r.cpusetMems,
		BlkioWeight:        r.blkioWeight,
	}
	if flags.Changed("pids-limit") {
		v := r.pidsLimit
		res.PidsLimit = &v
	}
	if flags.Lookup("memory-swappiness") == nil {
		return res, nil // update
	}
	if r.memorySwappiness != -1 {
		v := r.memorySwappiness
		res.MemorySwappiness = &v
	}
	if flags.Changed("oom-kill-disable") {
		v := r.oomKillDisable
		res.OomKillDisable = &v
	}
	for _, w := range r.blkioWeightDevice {
		d, err := opts.ParseWeightDevice(w)
		if err != nil {
			return res, err
		}
		res.BlkioWeightDevice = append(res.BlkioWeightDevice, d)
	}
	for _, t := range []struct {
		vals  []string
		parse func(string) (*blkiodev.ThrottleDevice, error)
		out   *[]*blkiodev.ThrottleDevice
	}{
		{r.deviceReadBps, opts.ParseThrottleBps, &res.BlkioDeviceReadBps},
		{r.deviceWriteBps, opts.ParseThrottleBps, &res.BlkioDeviceWriteBps},
		{r.deviceReadIOps, opts.ParseThrottleIOps, &res.BlkioDeviceReadIOps},
		{r.deviceWriteIOps, opts.ParseThrottleIOps, &res.BlkioDeviceWriteIOps},
	} {
		for _, v := range t.vals {
			d, err := t.parse(v)
			if err != nil {
				return res, err
			}
			*t.out = append(*t.out, d)
		}
	}
	// The last --ulimit of a name wins, as in Docker.
	byName := map[string]int{}
	for _, v := range r.ulimits {
		u, err := opts.ParseUlimit(v)
		if err != nil {
			return res, err
		}
		if i, ok := byName[u.Name]; ok {
			res.Ulimits[i] = u
			continue
		}
		byName[u.Name] = len(res.Ulimits)
		res.Ulimits = append(res.Ulimits, u)
	}
	return res, nil
}
