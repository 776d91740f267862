package daemon

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/daemon/resources"
	"github.com/berth-project/berth/daemon/runspec"
)

// validateLimits applies Docker's create-time defaults to the container's
// resource limits and checks them against what this host can enforce.
func (d *Daemon) validateLimits(hc *containertypes.HostConfig) ([]string, error) {
	resources.Adapt(&hc.Resources)
	warnings, err := resources.Validate(&hc.Resources, d.host, false)
	if err != nil {
		return nil, err
	}
	if hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000 {
		return nil, fmt.Errorf("Invalid value %d, range for oom score adj is [-1000, 1000]: %w", hc.OomScoreAdj, errInvalid)
	}
	if _, err := blockDevices(hc.Resources); err != nil {
		return nil, err
	}
	return warnings, nil
}

// blockDevices looks up the numbers of the block devices the limits name.
func blockDevices(r containertypes.Resources) (map[string]runspec.DevNum, error) {
	paths := runspec.BlockDevicePaths(r)
	if len(paths) == 0 {
		return nil, nil
	}
	devs := map[string]runspec.DevNum{}
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return nil, fmt.Errorf("invalid device %s for a Block I/O limit: %w: %w", p, err, errInvalid)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFBLK {
			return nil, fmt.Errorf("invalid device %s for a Block I/O limit: not a block device: %w", p, errInvalid)
		}
		devs[p] = runspec.DevNum{Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev))}
	}
	return devs, nil
}

// ContainerUpdate changes the resource limits and the restart policy of a
// container, running or not (docker update). A running container's
// cgroup is changed by the runtime's update; the new values persist.
func (d *Daemon) ContainerUpdate(ctx context.Context, name string, upd *containertypes.UpdateConfig) (containertypes.UpdateResponse, error) {
	resp := containertypes.UpdateResponse{Warnings: []string{}}
	if upd == nil {
		upd = &containertypes.UpdateConfig{}
	}
	c, err := d.containers.Get(name)
	if err != nil {
		return resp, err
	}
	c.Lock()
	defer c.Unlock()
	if st := c.State.Status; st == containertypes.StateRemoving || st == containertypes.StateDead {
		return resp, fmt.Errorf("Cannot update container %s: container is marked for removal and cannot be \"updated\": %w", c.ID, errConflict)
	}
	merged, err := resources.Merge(c.HostConfig.Resources, upd.Resources)
	if err != nil {
		return resp, err
	}
	warnings, err := resources.Validate(&merged, d.host, true)
	if err != nil {
		return resp, err
	}
	policy := c.HostConfig.RestartPolicy
	if upd.RestartPolicy.Name != "" {
		if c.HostConfig.AutoRemove && upd.RestartPolicy.Name != containertypes.RestartPolicyDisabled {
			return resp, errdefs.ErrConflict.WithMessage("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		if err := validateRestartPolicy(upd.RestartPolicy); err != nil {
			return resp, err
		}
		policy = upd.RestartPolicy
	}
	if c.State.IsRunning() {
		shim := d.liveOf(c.ID).shim
		if shim == nil {
			return resp, fmt.Errorf("container %s: %w", c.ID, errShimGone)
		}
		devs, err := blockDevices(merged)
		if err != nil {
			return resp, err
		}
		if err := shim.Update(ctx, runspec.LinuxResources(merged, devs)); err != nil {
			return resp, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
		}
	}
	c.HostConfig.Resources = merged
	c.HostConfig.RestartPolicy = policy
	if err := c.ToDisk(); err != nil {
		return resp, fmt.Errorf("persist update of container %s: %w", c.ID, err)
	}
	d.containerEvent(c, eventtypes.ActionUpdate, nil)
	resp.Warnings = append(resp.Warnings, warnings...)
	return resp, nil
}
