// Package logconfig resolves a container's HostConfig.LogConfig (and the
// daemon's default) into the logging policy the shim applies: Docker's
// json-file driver with max-size/max-file rotation, "local" (stored in the
// json-file format, with local's defaults) or "none". Any other driver or
// option is refused at create with the message Docker gives.
package logconfig

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/containerd/errdefs"
	units "github.com/docker/go-units"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/container"
)

// Drivers Berth has.
const (
	JSONFile = "json-file"
	Local    = "local"
	None     = "none"
)

// Policy is a resolved logging configuration, as the container persists
// it.
type Policy = container.LogPolicy

// Options of Docker's drivers that Berth does not implement: valid in
// Docker, refused here rather than ignored.
var unsupported = map[string][]string{
	JSONFile: {"compress", "labels", "labels-regex", "env", "env-regex", "tag"},
	Local:    {"compress"},
}

// Resolve validates cfg, falling back to def (the daemon's default) when
// cfg names no driver, and returns the policy.
func Resolve(cfg, def containertypes.LogConfig) (Policy, error) {
	if cfg.Type == "" {
		cfg = def
		if cfg.Type == "" {
			cfg.Type = JSONFile
		}
	}
	p := Policy{Driver: cfg.Type, MaxFiles: 1}
	switch cfg.Type {
	case JSONFile:
	case Local:
		// Docker's local driver keeps 5 files of 20 MB by default.
		p.MaxSize, p.MaxFiles = 20*1024*1024, 5
	case None:
		for k := range cfg.Config {
			return Policy{}, fmt.Errorf("unknown log opt '%s' for %s log driver: %w", k, cfg.Type, errdefs.ErrInvalidArgument)
		}
		return Policy{Driver: None}, nil
	default:
		return Policy{}, fmt.Errorf("logger: no log driver named '%s' is registered (berth supports json-file, local and none): %w", cfg.Type, errdefs.ErrInvalidArgument)
	}
	keys := make([]string, 0, len(cfg.Config))
	for k := range cfg.Config {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad option is always the same one
	for _, k := range keys {
		v := cfg.Config[k]
		switch k {
		case "max-size":
			n, err := units.FromHumanSize(v)
			if err != nil {
				return Policy{}, fmt.Errorf("invalid max-size %q for %s log driver: %w", v, cfg.Type, errdefs.ErrInvalidArgument)
			}
			if n <= 0 {
				return Policy{}, fmt.Errorf("max-size must be a positive number: %w", errdefs.ErrInvalidArgument)
			}
			p.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil {
				return Policy{}, fmt.Errorf("invalid max-file %q for %s log driver: %w", v, cfg.Type, errdefs.ErrInvalidArgument)
			}
			if n < 1 {
				return Policy{}, fmt.Errorf("max-file cannot be less than 1: %w", errdefs.ErrInvalidArgument)
			}
			p.MaxFiles = n
		default:
			if slices.Contains(unsupported[cfg.Type], k) {
				return Policy{}, fmt.Errorf("log opt '%s' of the %s log driver is not supported by berth: %w", k, cfg.Type, errdefs.ErrInvalidArgument)
			}
			return Policy{}, fmt.Errorf("unknown log opt '%s' for %s log driver: %w", k, cfg.Type, errdefs.ErrInvalidArgument)
		}
	}
	return p, nil
}
