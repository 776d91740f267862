package resources

import (
	"fmt"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
)

func conflict(msg string) error { return errdefs.ErrConflict.WithMessage(msg) }

// Merge applies the limits of an update (POST /containers/{id}/update) to
// the current ones, with Docker's rules (moby's Container.UpdateContainer):
// zero values leave a limit unchanged, NanoCPUs and a CFS period or quota
// exclude each other, and a memory limit above the current swap limit
// needs a new swap limit. Fields an update cannot change are refused.
// Validate the result with update set.
func Merge(cur, upd containertypes.Resources) (containertypes.Resources, error) {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Ulimits", len(upd.Ulimits) > 0},
		{"OomKillDisable", upd.OomKillDisable != nil},
		{"MemorySwappiness", upd.MemorySwappiness != nil && *upd.MemorySwappiness != -1},
		{"BlkioWeightDevice", len(upd.BlkioWeightDevice) > 0},
		{"BlkioDeviceReadBps", len(upd.BlkioDeviceReadBps) > 0},
		{"BlkioDeviceWriteBps", len(upd.BlkioDeviceWriteBps) > 0},
		{"BlkioDeviceReadIOps", len(upd.BlkioDeviceReadIOps) > 0},
		{"BlkioDeviceWriteIOps", len(upd.BlkioDeviceWriteIOps) > 0},
		{"Devices", len(upd.Devices) > 0},
		{"DeviceCgroupRules", len(upd.DeviceCgroupRules) > 0},
		{"DeviceRequests", len(upd.DeviceRequests) > 0},
		{"CgroupParent", upd.CgroupParent != ""},
	} {
		if f.set {
			return cur, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s cannot be updated: recreate the container to change it", f.name))
		}
	}
	switch {
	case upd.NanoCPUs > 0 && cur.CPUPeriod > 0:
		return cur, conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set")
	case upd.NanoCPUs > 0 && cur.CPUQuota > 0:
		return cur, conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set")
	case upd.CPUPeriod > 0 && cur.NanoCPUs > 0:
		return cur, conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
	case upd.CPUQuota > 0 && cur.NanoCPUs > 0:
		return cur, conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
	case upd.Memory != 0 && cur.MemorySwap > 0 && upd.Memory > cur.MemorySwap && upd.MemorySwap == 0:
		return cur, conflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
	}
	r := cur
	setIfNonZero(&r.BlkioWeight, upd.BlkioWeight)
	setIfNonZero(&r.CPUShares, upd.CPUShares)
	setIfNonZero(&r.NanoCPUs, upd.NanoCPUs)
	setIfNonZero(&r.CPUPeriod, upd.CPUPeriod)
	setIfNonZero(&r.CPUQuota, upd.CPUQuota)
	setIfNonZero(&r.CpusetCpus, upd.CpusetCpus)
	setIfNonZero(&r.CpusetMems, upd.CpusetMems)
	setIfNonZero(&r.Memory, upd.Memory)
	setIfNonZero(&r.MemorySwap, upd.MemorySwap)
	setIfNonZero(&r.MemoryReservation, upd.MemoryReservation)
	setIfNonZero(&r.CPURealtimePeriod, upd.CPURealtimePeriod)
	setIfNonZero(&r.CPURealtimeRuntime, upd.CPURealtimeRuntime)
	if upd.PidsLimit != nil {
		v := *upd.PidsLimit
		if v <= 0 {
			v = -1 // 0 and -1 both mean unlimited
		}
		r.PidsLimit = &v
	}
	return r, nil
}

// setIfNonZero sets *dst to v unless v is its type's zero value, which in an
// update means "unchanged".
func setIfNonZero[T comparable](dst *T, v T) {
	var zero T
	if v != zero {
		*dst = v
	}
}
