package daemon

import (
	"fmt"
	"os"

	containertypes "github.com/moby/moby/api/types/container"
	mounttypes "github.com/moby/moby/api/types/mount"

	"github.com/berth-project/berth/container"
)

// validateHostConfig checks the settings that are not mounts.
func (d *Daemon) validateHostConfig(hc *containertypes.HostConfig) ([]string, error) {
	var warnings []string
	switch mode := string(hc.NetworkMode); {
	case mode == "" || mode == "default" || mode == "bridge":
		warnings = append(warnings, "berth has no bridge networking yet: the container gets its own network namespace with loopback only")
	case mode == "none" || mode == "host":
	case d.userNetwork(mode):
		warnings = append(warnings, "berth has no bridging yet: containers of network "+mode+" each get their own network namespace with loopback only")
	default:
		return nil, fmt.Errorf("network mode %q is not supported by berth (use none, host or bridge): %w", mode, errInvalid)
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

// checkBindSources refuses a `--mount type=bind` whose source does not
// exist on the host, as Docker does (a missing -v source is created at
// start instead).
func checkBindSources(mounts []container.Mount) error {
	for _, m := range mounts {
		if m.Type != container.MountBind || !m.FromAPIMounts {
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
