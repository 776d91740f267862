package container

import (
	"fmt"
	"strings"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"
)

// processOptions are the run/create flags of the container's process
// supervision: health check, init, supplementary groups and logging.
type processOptions struct {
	healthCmd           string
	healthInterval      time.Duration
	healthTimeout       time.Duration
	healthStartPeriod   time.Duration
	healthStartInterval time.Duration
	healthRetries       int
	noHealthcheck       bool
	init                bool
	groupAdd            []string
	logDriver           string
	logOpts             []string
}

func addProcessFlags(flags *pflag.FlagSet, o *processOptions) {
	flags.StringVar(&o.healthCmd, "health-cmd", "", "Command to run to check health")
	flags.DurationVar(&o.healthInterval, "health-interval", 0, "Time between running the check (ms|s|m|h) (default 0s)")
	flags.DurationVar(&o.healthTimeout, "health-timeout", 0, "Maximum time to allow one check to run (ms|s|m|h) (default 0s)")
	flags.DurationVar(&o.healthStartPeriod, "health-start-period", 0, "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)")
	flags.DurationVar(&o.healthStartInterval, "health-start-interval", 0, "Time between running the check during the start period (ms|s|m|h) (default 0s)")
	flags.IntVar(&o.healthRetries, "health-retries", 0, "Consecutive failures needed to report unhealthy")
	flags.BoolVar(&o.noHealthcheck, "no-healthcheck", false, "Disable any container-specified HEALTHCHECK")
	flags.BoolVar(&o.init, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	flags.StringArrayVar(&o.groupAdd, "group-add", nil, "Add additional groups to join")
	flags.StringVar(&o.logDriver, "log-driver", "", "Logging driver for the container")
	flags.StringArrayVar(&o.logOpts, "log-opt", nil, "Log driver options")
}

// apply sets the request's fields from the flags, with the docker CLI's
// checks and messages.
func (o *processOptions) apply(flags *pflag.FlagSet, cfg *containertypes.Config, hc *containertypes.HostConfig) error {
	hasHealth := o.healthCmd != "" || o.healthInterval != 0 || o.healthTimeout != 0 || o.healthStartPeriod != 0 ||
		o.healthStartInterval != 0 || o.healthRetries != 0
	switch {
	case o.noHealthcheck && hasHealth:
		return fmt.Errorf("--no-healthcheck conflicts with --health-* options")
	case o.noHealthcheck:
		cfg.Healthcheck = &containertypes.HealthConfig{Test: []string{"NONE"}}
	case hasHealth:
		for _, c := range []struct {
			name string
			neg  bool
		}{
			{"--health-interval", o.healthInterval < 0},
			{"--health-timeout", o.healthTimeout < 0},
			{"--health-retries", o.healthRetries < 0},
			{"--health-start-period", o.healthStartPeriod < 0},
			{"--health-start-interval", o.healthStartInterval < 0},
		} {
			if c.neg {
				return fmt.Errorf("%s cannot be negative", c.name)
			}
		}
		h := &containertypes.HealthConfig{
			Interval:      o.healthInterval,
			Timeout:       o.healthTimeout,
			StartPeriod:   o.healthStartPeriod,
			StartInterval: o.healthStartInterval,
			Retries:       o.healthRetries,
		}
		if o.healthCmd != "" {
			h.Test = []string{"CMD-SHELL", o.healthCmd}
		}
		cfg.Healthcheck = h
	}
	if flags.Changed("init") {
		v := o.init
		hc.Init = &v
	}
	hc.GroupAdd = o.groupAdd
	hc.LogConfig.Type = o.logDriver
	for _, kv := range o.logOpts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("invalid key value pair format in log-opt: %q", kv)
		}
		if hc.LogConfig.Config == nil {
			hc.LogConfig.Config = map[string]string{}
		}
		hc.LogConfig.Config[k] = v
	}
	return nil
}
