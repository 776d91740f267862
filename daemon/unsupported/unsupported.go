// Package unsupported refuses, at create, the fields of the Engine API that
// Berth does not implement, so that no field a client sends is silently
// ignored. docs/api-coverage.md lists every field of container.Config,
// container.HostConfig and network.EndpointSettings with its status; this
// package holds the refusals of the rows marked "refused".
package unsupported

import (
	"fmt"
	"sort"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// refusal is one field Berth refuses: set reports whether the request
// asks for something Berth would otherwise ignore.
type refusal struct {
	field string // as docs/api-coverage.md names it
	hint  string // what to use instead, or why
	set   bool
}

// Fields returns an errdefs.ErrInvalidArgument naming the first field of
// the request (in a stable order) that Berth does not support, or nil.
// Zero values, and the values that mean what Berth does anyway, pass.
func Fields(cfg *containertypes.Config, hc *containertypes.HostConfig, nc *network.NetworkingConfig) error {
	var rs []refusal
	if cfg != nil {
		rs = append(rs,
			refusal{"Config.NetworkDisabled", "use NetworkMode \"none\"", cfg.NetworkDisabled},
		)
	}
	if hc != nil {
		rs = append(rs,
			refusal{"HostConfig.VolumeDriver", "only the local driver exists", hc.VolumeDriver != "" && hc.VolumeDriver != "local"},
			refusal{"HostConfig.VolumesFrom", "", len(hc.VolumesFrom) > 0},
			refusal{"HostConfig.CgroupnsMode", "containers share the host's cgroup namespace", hc.CgroupnsMode != "" && hc.CgroupnsMode != containertypes.CgroupnsModeHost},
			refusal{"HostConfig.Cgroup", "", hc.Cgroup != ""},
			refusal{"HostConfig.UsernsMode", "containers use the host's user namespace", hc.UsernsMode != "" && hc.UsernsMode != "host"},
			refusal{"HostConfig.UTSMode", "use \"host\" or leave it empty", hc.UTSMode != "" && hc.UTSMode != "host" && hc.UTSMode != "private"},
			refusal{"HostConfig.StorageOpt", "", len(hc.StorageOpt) > 0},
			refusal{"HostConfig.Umask", "", hc.Umask != nil},
			refusal{"HostConfig.Isolation", "Linux has only the default isolation", hc.Isolation != "" && hc.Isolation != containertypes.IsolationDefault},
			refusal{"HostConfig.Devices", "", len(hc.Devices) > 0},
			refusal{"HostConfig.DeviceCgroupRules", "", len(hc.DeviceCgroupRules) > 0},
		)
	}
	if nc != nil {
		names := make([]string, 0, len(nc.EndpointsConfig))
		for n := range nc.EndpointsConfig {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			es := nc.EndpointsConfig[n]
			if es == nil {
				continue
			}
			rs = append(rs,
				refusal{"EndpointSettings.DriverOpts", "network " + n, len(es.DriverOpts) > 0},
				refusal{"EndpointSettings.GwPriority", "network " + n, es.GwPriority != 0},
				refusal{"EndpointSettings.MacAddress", "network " + n, len(es.MacAddress) > 0},
			)
		}
	}
	for _, r := range rs {
		if !r.set {
			continue
		}
		msg := fmt.Sprintf("%s is not supported by berth", r.field)
		if r.hint != "" {
			msg += " (" + r.hint + ")"
		}
		return errdefs.ErrInvalidArgument.WithMessage(msg)
	}
	return nil
}
