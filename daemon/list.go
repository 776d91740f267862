package daemon

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/health"
)

var listFilters = map[string]bool{"label": true, "name": true, "id": true, "status": true, "exited": true, "ancestor": true, "volume": true, "network": true, "before": true, "since": true, "health": true}

// ContainerList returns the containers selected by opts, newest first.
func (d *Daemon) ContainerList(ctx context.Context, opts backend.ListOptions) ([]containertypes.Summary, error) {
	for k, vals := range opts.Filters {
		if !listFilters[k] {
			return nil, fmt.Errorf("invalid filter '%s': %w", k, errInvalid)
		}
		if k == "status" {
			for _, v := range vals {
				if containertypes.ValidateContainerState(containertypes.ContainerState(v)) != nil {
					return nil, fmt.Errorf("invalid filter 'status=%s': %w", v, errInvalid)
				}
			}
		}
	}
	out := []containertypes.Summary{}
	for _, c := range d.containers.List() {
		c.Lock()
		ok, err := d.matches(c, opts)
		var s containertypes.Summary
		if ok {
			s = d.summary(c)
		}
		c.Unlock()
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		out = append(out, s)
		if opts.Limit > 0 && len(out) >= opts.Limit {
			break
		}
	}
	return out, nil
}

func (d *Daemon) matches(c *container.Container, opts backend.ListOptions) (bool, error) {
	f := opts.Filters
	_, hasStatus := f["status"]
	// A restarting container is listed as running, as in Docker.
	if !opts.All && opts.Limit <= 0 && !hasStatus && !c.State.IsRunning() && c.State.Status != containertypes.StateRestarting {
		return false, nil
	}
	any := func(key string, match func(string) (bool, error)) (bool, error) {
		vals, ok := f[key]
		if !ok || len(vals) == 0 {
			return true, nil
		}
		for _, v := range vals {
			m, err := match(v)
			if err != nil {
				return false, err
			}
			if m {
				return true, nil
			}
		}
		return false, nil
	}
	checks := []struct {
		key   string
		match func(string) (bool, error)
	}{
		{"id", func(v string) (bool, error) { return strings.HasPrefix(c.ID, v), nil }},
		{"name", func(v string) (bool, error) {
			re, err := regexp.Compile(v)
			if err != nil {
				return false, fmt.Errorf("invalid filter 'name=%s': %w", v, errInvalid)
			}
			return re.MatchString(c.Name) || re.MatchString(strings.TrimPrefix(c.Name, "/")), nil
		}},
		{"status", func(v string) (bool, error) { return string(c.State.Status) == v, nil }},
		{"health", func(v string) (bool, error) {
			if err := containertypes.ValidateHealthStatus(containertypes.HealthStatus(v)); err != nil {
				return false, fmt.Errorf("invalid filter 'health=%s': %w", v, errInvalid)
			}
			if c.State.Health == nil {
				return v == string(containertypes.NoHealthcheck), nil
			}
			return string(c.State.Health.Status) == v, nil
		}},
		{"exited", func(v string) (bool, error) {
			n, err := strconv.Atoi(v)
			if err != nil {
				return false, fmt.Errorf("invalid filter 'exited=%s': %w", v, errInvalid)
			}
			return c.State.Status == containertypes.StateExited && c.State.ExitCode == n, nil
		}},
		{"ancestor", func(v string) (bool, error) {
			img, err := d.images.Get(v)
			return err == nil && img.ID == c.ImageID, nil
		}},
		{"volume", func(v string) (bool, error) {
			for _, m := range c.Mounts {
				if m.VolumeName == v || m.Destination == v {
					return true, nil
				}
			}
			return false, nil
		}},
		{"network", func(v string) (bool, error) { return d.onNetwork(c, v), nil }},
	}
	for _, ch := range checks {
		ok, err := any(ch.key, ch.match)
		if err != nil || !ok {
			return false, err
		}
	}
	// Labels: every label filter must match.
	for _, v := range f["label"] {
		k, val, hasVal := strings.Cut(v, "=")
		got, ok := c.Config.Labels[k]
		if !ok || (hasVal && got != val) {
			return false, nil
		}
	}
	return true, nil
}

func networkName(c *container.Container) string {
	switch m := string(c.HostConfig.NetworkMode); m {
	case "", "default":
		return "bridge"
	default:
		return m
	}
}

// summary is the list form of c; the caller holds c's lock.
func (d *Daemon) summary(c *container.Container) containertypes.Summary {
	cmd := c.Path
	if len(c.Args) > 0 {
		cmd += " " + strings.Join(c.Args, " ")
	}
	labels := c.Config.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	s := containertypes.Summary{
		ID:              c.ID,
		Names:           []string{c.Name},
		Image:           c.ImageRef,
		ImageID:         c.ImageID,
		Command:         cmd,
		Created:         c.Created.Unix(),
		Ports:           []containertypes.PortSummary{},
		Labels:          labels,
		State:           c.State.Status,
		Status:          statusText(&c.State),
		Mounts:          d.mountPoints(c),
		NetworkSettings: &containertypes.NetworkSettingsSummary{Networks: d.containerEndpoints(c)},
	}
	s.HostConfig.NetworkMode = networkName(c)
	return s
}

// statusText is Docker's human status: "Up 3 seconds", "Exited (0) 2
// minutes ago", "Created".
func statusText(s *container.State) string {
	switch s.Status {
	case containertypes.StateRunning:
		if h := health.StatusText(s.Health); h != "" {
			return "Up " + units.HumanDuration(time.Since(s.StartedAt)) + " (" + h + ")"
		}
		return "Up " + units.HumanDuration(time.Since(s.StartedAt))
	case containertypes.StatePaused:
		return "Up " + units.HumanDuration(time.Since(s.StartedAt)) + " (Paused)"
	case containertypes.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", s.ExitCode, units.HumanDuration(time.Since(s.FinishedAt)))
	case containertypes.StateExited:
		if s.FinishedAt.IsZero() {
			return "Created"
		}
		return fmt.Sprintf("Exited (%d) %s ago", s.ExitCode, units.HumanDuration(time.Since(s.FinishedAt)))
	case containertypes.StateRemoving:
		return "Removal In Progress"
	case containertypes.StateDead:
		return "Dead"
	}
	return "Created"
}
