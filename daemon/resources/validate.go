package resources

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/blkiodev"
	containertypes "github.com/moby/moby/api/types/container"
)

// Docker's bounds (moby daemon/daemon_unix.go).
const (
	// MinMemory is the smallest memory limit: not a kernel limit, but
	// room for a container's start-up overhead.
	MinMemory    = 6 * 1024 * 1024
	minCPUShares = 2
	maxCPUShares = 262144
	// CFSPeriod is the CFS period NanoCPUs is expressed in, in µs.
	CFSPeriod = 100000
)

func invalid(format string, args ...any) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, args...))
}

// unsupported refuses a limit the host cannot enforce: Docker discards it
// with a warning, Berth ignores nothing.
func unsupported(field, what string) error {
	return invalid("%s is not supported on this host: your kernel does not support %s or the cgroup is not mounted", field, what)
}

// Adapt applies Docker's create-time defaults to r: a memory limit without
// a swap limit allows as much swap as memory (MemorySwap = 2 × Memory),
// CPU shares are clamped to what the kernel accepts, and a swappiness of
// -1 means "not set".
func Adapt(r *containertypes.Resources) {
	if r.Memory > 0 && r.MemorySwap == 0 {
		r.MemorySwap = 2 * r.Memory
	}
	if r.CPUShares < 0 {
		r.CPUShares = minCPUShares
	} else if r.CPUShares > maxCPUShares {
		r.CPUShares = maxCPUShares
	}
	if r.MemorySwappiness != nil && *r.MemorySwappiness == -1 {
		r.MemorySwappiness = nil
	}
}

// Validate checks r against what h can enforce, with Docker's messages
// (moby's verifyPlatformContainerResources); update relaxes the checks an
// update needs relaxed (a swap limit alone). It may change r as Docker
// does (a host without swap accounting limits memory without swap) and
// returns the warnings Docker gives. Errors are
// errdefs.ErrInvalidArgument.
func Validate(r *containertypes.Resources, h Host, update bool) ([]string, error) {
	var warnings []string
	// memory
	if r.Memory != 0 && r.Memory < MinMemory {
		return nil, invalid("Minimum memory limit allowed is 6MB")
	}
	if r.Memory > 0 && !h.MemoryLimit {
		return nil, unsupported("Memory", "memory limit capabilities")
	}
	if r.Memory > 0 && r.MemorySwap != -1 && !h.SwapLimit {
		warnings = append(warnings, "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
		r.MemorySwap = -1
	}
	if r.MemorySwap < -1 {
		return nil, invalid("Invalid value %d for MemorySwap: use -1 for unlimited swap", r.MemorySwap)
	}
	if r.Memory > 0 && r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return nil, invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	if r.Memory == 0 && r.MemorySwap > 0 && !update {
		return nil, invalid("You should always set the Memory limit when using Memoryswap limit, see usage")
	}
	if r.MemorySwappiness != nil {
		if !h.MemorySwappiness {
			return nil, unsupported("MemorySwappiness", "memory swappiness capabilities")
		}
		if s := *r.MemorySwappiness; s < 0 || s > 100 {
			return nil, invalid("Invalid value: %v, valid memory swappiness range is 0-100", s)
		}
	}
	if r.MemoryReservation > 0 && !h.MemoryReservation {
		return nil, unsupported("MemoryReservation", "memory soft limit capabilities")
	}
	if r.MemoryReservation != 0 && r.MemoryReservation < MinMemory {
		return nil, invalid("Minimum memory reservation allowed is 6MB")
	}
	if r.Memory > 0 && r.MemoryReservation > 0 && r.Memory < r.MemoryReservation {
		return nil, invalid("Minimum memory limit can not be less than memory reservation limit, see usage")
	}
	if r.OomKillDisable != nil && *r.OomKillDisable {
		if !h.OomKillDisable {
			return nil, unsupported("OomKillDisable", "OomKillDisable")
		}
		if r.Memory == 0 {
			warnings = append(warnings, "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
		}
	}
	if r.PidsLimit != nil && *r.PidsLimit > 0 && !h.PidsLimit {
		return nil, unsupported("PidsLimit", "PIDs limit capabilities")
	}

	// cpu
	if r.NanoCPUs > 0 && r.CPUPeriod > 0 {
		return nil, invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set")
	}
	if r.NanoCPUs > 0 && r.CPUQuota > 0 {
		return nil, invalid("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
	}
	if r.NanoCPUs > 0 && !h.CPUCfs {
		return nil, invalid("NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted")
	}
	if r.NanoCPUs < 0 || r.NanoCPUs > int64(h.NCPU)*1e9 {
		return nil, invalid("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", h.NCPU, h.NCPU)
	}
	if r.CPUShares > 0 && !h.CPUShares {
		return nil, unsupported("CpuShares", "CPU shares")
	}
	if (r.CPUPeriod != 0 || r.CPUQuota != 0) && !h.CPUCfs {
		return nil, unsupported("CpuPeriod and CpuQuota", "CPU CFS scheduler")
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000) {
		return nil, invalid("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	}
	if r.CPUQuota > 0 && r.CPUQuota < 1000 {
		return nil, invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	}
	if (r.CPURealtimePeriod != 0 || r.CPURealtimeRuntime != 0) && !h.CPURealtime {
		return nil, unsupported("CpuRealtimePeriod and CpuRealtimeRuntime", "CPU real-time scheduler")
	}
	if r.CPURealtimePeriod != 0 && r.CPURealtimeRuntime != 0 && r.CPURealtimeRuntime > r.CPURealtimePeriod {
		return nil, invalid("cpu-rt-runtime cannot be higher than cpu-rt-period")
	}
	if r.CPUPercent > 0 || r.CPUCount > 0 {
		return nil, invalid("CpuPercent and CpuCount are Windows options: linux does not support them")
	}

	// cpuset
	if (r.CpusetCpus != "" || r.CpusetMems != "") && !h.Cpuset {
		return nil, unsupported("CpusetCpus and CpusetMems", "cpuset")
	}
	if r.CpusetCpus != "" {
		ok, err := subset(r.CpusetCpus, h.Cpus)
		if err != nil {
			return nil, invalid("Invalid value %s for cpuset cpus: %v", r.CpusetCpus, err)
		}
		if !ok {
			return nil, invalid("Requested CPUs are not available - requested %s, available: %s", r.CpusetCpus, h.Cpus)
		}
	}
	if r.CpusetMems != "" {
		ok, err := subset(r.CpusetMems, h.Mems)
		if err != nil {
			return nil, invalid("Invalid value %s for cpuset mems: %v", r.CpusetMems, err)
		}
		if !ok {
			return nil, invalid("Requested memory nodes are not available - requested %s, available: %s", r.CpusetMems, h.Mems)
		}
	}

	// blkio
	if r.BlkioWeight > 0 && !h.BlkioWeight {
		return nil, unsupported("BlkioWeight", "Block I/O weight")
	}
	if r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000) {
		return nil, invalid("Range of blkio weight is from 10 to 1000")
	}
	if r.IOMaximumBandwidth != 0 || r.IOMaximumIOps != 0 {
		return nil, invalid("Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps")
	}
	for _, b := range []struct {
		field, what string
		n           int
		ok          bool
	}{
		{"BlkioWeightDevice", "Block I/O weight_device", len(r.BlkioWeightDevice), h.BlkioWeightDevice},
		{"BlkioDeviceReadBps", "BPS Block I/O read limit", len(r.BlkioDeviceReadBps), h.BlkioReadBpsDevice},
		{"BlkioDeviceWriteBps", "BPS Block I/O write limit", len(r.BlkioDeviceWriteBps), h.BlkioWriteBpsDev},
		{"BlkioDeviceReadIOps", "IOPS Block read limit", len(r.BlkioDeviceReadIOps), h.BlkioReadIOpsDev},
		{"BlkioDeviceWriteIOps", "IOPS Block write limit", len(r.BlkioDeviceWriteIOps), h.BlkioWriteIOpsDev},
	} {
		if b.n > 0 && !b.ok {
			return nil, unsupported(b.field, b.what)
		}
	}
	for _, w := range r.BlkioWeightDevice {
		if w == nil || w.Path == "" {
			return nil, invalid("BlkioWeightDevice: a device path is required")
		}
		if w.Weight < 10 || w.Weight > 1000 {
			return nil, invalid("invalid weight for device: %d: Range of blkio weight is from 10 to 1000", w.Weight)
		}
	}
	for _, list := range [][]*blkiodev.ThrottleDevice{r.BlkioDeviceReadBps, r.BlkioDeviceWriteBps, r.BlkioDeviceReadIOps, r.BlkioDeviceWriteIOps} {
		for _, t := range list {
			if t == nil || t.Path == "" {
				return nil, invalid("a device path is required for a Block I/O throttle")
			}
		}
	}

	if err := validateUlimits(r.Ulimits, h.HardLimits); err != nil {
		return nil, err
	}
	if len(r.DeviceRequests) > 0 {
		return nil, invalid("DeviceRequests (--gpus) are not supported by berth")
	}
	if r.CgroupParent != "" {
		return nil, invalid("CgroupParent is not supported by berth: containers are in the /berth cgroup")
	}
	return warnings, nil
}

// validateUlimits checks names and values; a hard limit above the daemon's
// own is refused: the runtime could not set it.
func validateUlimits(ul []*containertypes.Ulimit, hard map[string]uint64) error {
	seen := map[string]bool{}
	for _, u := range ul {
		if u == nil {
			continue
		}
		if !knownUlimit(u.Name) {
			return invalid("invalid ulimit type: %s", u.Name)
		}
		if seen[u.Name] {
			return invalid("ulimit %s is set more than once", u.Name)
		}
		seen[u.Name] = true
		if u.Hard != -1 && (u.Soft == -1 || u.Soft > u.Hard) {
			return invalid("ulimit %s: soft limit %d must be less than or equal to hard limit %d", u.Name, u.Soft, u.Hard)
		}
		if u.Soft < -1 || u.Hard < -1 {
			return invalid("ulimit %s: limits must be -1 (unlimited) or positive", u.Name)
		}
		max, ok := hard[u.Name]
		if !ok {
			continue
		}
		if h := uint64(u.Hard); h > max { // -1 (unlimited) is the largest
			return invalid("ulimit %s: hard limit %s is above the daemon's own hard limit %d: a container cannot get more than berthd has", u.Name, limitString(u.Hard), max)
		}
	}
	return nil
}

func limitString(v int64) string {
	if v == -1 {
		return "unlimited"
	}
	return strconv.FormatInt(v, 10)
}

func knownUlimit(name string) bool {
	for _, n := range UlimitNames {
		if n == name {
			return true
		}
	}
	return false
}

// subset reports whether the list (Docker's cpuset syntax: "0-2,5")
// names only members of available.
func subset(list, available string) (bool, error) {
	req, err := ParseList(list)
	if err != nil {
		return false, err
	}
	avail, err := ParseList(available)
	if err != nil {
		return false, nil
	}
	for n := range req {
		if !avail[n] {
			return false, nil
		}
	}
	return true, nil
}

// ParseList parses a cpuset list ("0-2,5") as Docker's
// parsers.ParseUintList.
func ParseList(val string) (map[int]bool, error) {
	out := map[int]bool{}
	if val == "" {
		return out, nil
	}
	errInvalid := fmt.Errorf("invalid format: %s", val)
	for _, r := range strings.Split(val, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, errInvalid
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, errInvalid
			}
		}
		if b-a > 1<<16 {
			return nil, errInvalid
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out, nil
}
