package daemon

import (
	"fmt"
	"os"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	mounttypes "github.com/moby/moby/api/types/mount"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/network"
)

// validateHostConfig checks the settings that are not mounts.
func (d *Daemon) validateHostConfig(hc *containertypes.HostConfig) ([]string, error) {
	var warnings []string
	switch mode := string(hc.NetworkMode); {
	case mode == "" || mode == "default" || mode == "bridge":
	case mode == "none" || mode == "host":
	case strings.HasPrefix(mode, "container:"):
		if _, err := d.containers.Get(strings.TrimPrefix(mode, "container:")); err != nil {
			return nil, fmt.Errorf("No such container: %s: %w", strings.TrimPrefix(mode, "container:"), errNotFound)
		}
	case d.userNetwork(mode):
	default:
		if _, err := d.networks.Get(mode); err != nil {
			return nil, fmt.Errorf("network %s not found: %w", mode, errNotFound)
		}
		return nil, fmt.Errorf("network mode %q is not supported by berth (use none, host, bridge, container:NAME or a user network): %w", mode, errInvalid)
	}
	if !publishes(hc) && (len(hc.PortBindings) > 0 || hc.PublishAllPorts) {
		return nil, fmt.Errorf("conflicting options: port publishing and the container type network mode: %w", errInvalid)
	}
	if _, err := network.PortRequests(hc.PortBindings, nil, false); err != nil {
		return nil, err
	}
	if hc.ShmSize < 0 {
		return nil, fmt.Errorf("SHM size can not be less than 0: %w", errInvalid)
	}
	switch hc.IpcMode {
	case "", "private", "shareable", "host", "none":
	default:
		return nil, fmt.Errorf("ipc mode %q is not supported by berth: %w", hc.IpcMode, errInvalid)
	}
	switch hc.PidMode {
	case "", "host":
	default:
		return nil, fmt.Errorf("pid mode %q is not supported by berth: %w", hc.PidMode, errInvalid)
	}
	if err := validateRestartPolicy(hc.RestartPolicy); err != nil {
		return nil, err
	}
	if hc.AutoRemove && hc.RestartPolicy.Name != "" && hc.RestartPolicy.Name != "no" {
		return nil, fmt.Errorf("can't create 'AutoRemove' container with restart policy: %w", errInvalid)
	}
	return warnings, nil
}

// publishes reports whether hc's network mode can publish ports (it has
// a namespace of its own that the daemon plumbs).
func publishes(hc *containertypes.HostConfig) bool {
	m := string(hc.NetworkMode)
	return m != "host" && m != "none" && !strings.HasPrefix(m, "container:")
}

// checkEndpoints refuses what the networks cannot honour: --ip on a
// network without a user-configured subnet or outside it, and aliases
// where Docker refuses them.
func (d *Daemon) checkEndpoints(hc *containertypes.HostConfig, nc *networktypes.NetworkingConfig) error {
	if nc == nil {
		return nil
	}
	mode := string(hc.NetworkMode)
	for name, ep := range nc.EndpointsConfig {
		if ep == nil {
			continue
		}
		n, err := d.networks.Get(name)
		if err != nil {
			return err
		}
		if (mode == "host" || mode == "none" || strings.HasPrefix(mode, "container:")) && (len(ep.Aliases) > 0 || ep.IPAMConfig != nil) {
			return fmt.Errorf("network-scoped aliases and addresses are supported for user-defined networks only: %w", errInvalid)
		}
		if ep.IPAMConfig == nil {
			continue
		}
		if ep.IPAMConfig.IPv6Address.IsValid() || len(ep.IPAMConfig.LinkLocalIPs) > 0 {
			return fmt.Errorf("IPv6 and link-local addresses are not supported by berth: %w", errInvalid)
		}
		ip := ep.IPAMConfig.IPv4Address
		if !ip.IsValid() {
			continue
		}
		if n.Predefined {
			return fmt.Errorf("user specified IP address is supported on user defined networks only: %w", errInvalid)
		}
		if !n.Subnet.Contains(ip) || ip == n.Gateway {
			return fmt.Errorf("invalid IP address %s: it does not belong to network %s's subnet %s or is its gateway: %w", ip, n.Name, n.Subnet, errInvalid)
		}
		for _, other := range n.Endpoints {
			if other.IPv4Address == ip {
				return fmt.Errorf("address %s is already in use on network %s: %w", ip, n.Name, errConflict)
			}
		}
	}
	return nil
}

// checkBindSources refuses a `--mount type=bind` whose source does not
// exist on the host, as Docker does (a missing -v source, or one with
// BindOptions.CreateMountpoint, is created at start instead).
func checkBindSources(mounts []container.Mount) error {
	for _, m := range mounts {
		if m.Type != container.MountBind || !m.FromAPIMounts || m.CreateMountpoint {
			continue
		}
		if _, err := os.Stat(m.Source); err != nil {
			return fmt.Errorf("invalid mount config for type %q: bind source path does not exist: %s: %w", mounttypes.TypeBind, m.Source, errInvalid)
		}
	}
	return nil
}

// validateRestartPolicy checks a restart policy as Docker does.
func validateRestartPolicy(rp containertypes.RestartPolicy) error {
	switch rp.Name {
	case "", containertypes.RestartPolicyDisabled, containertypes.RestartPolicyAlways, containertypes.RestartPolicyUnlessStopped:
		if rp.MaximumRetryCount != 0 {
			return fmt.Errorf("invalid restart policy: maximum retry count can only be used with 'on-failure': %w", errInvalid)
		}
	case containertypes.RestartPolicyOnFailure:
		if rp.MaximumRetryCount < 0 {
			return fmt.Errorf("invalid restart policy: maximum retry count cannot be negative: %w", errInvalid)
		}
	default:
		return fmt.Errorf("invalid restart policy: unknown policy '%s'; use one of 'no', 'always', 'on-failure', or 'unless-stopped': %w", rp.Name, errInvalid)
	}
	return nil
}
