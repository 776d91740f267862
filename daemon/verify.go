package daemon

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
)

// verifyConfig checks the request's Config as Docker's create does
// (verifyContainerSettings), with Docker's messages: an environment entry
// needs a name, a working directory must be absolute (it is cleaned, as
// inspect then shows it), a stop signal must exist.
func verifyConfig(cfg *containertypes.Config) error {
	for _, kv := range cfg.Env {
		if k, _, _ := strings.Cut(kv, "="); k == "" {
			return errdefs.ErrInvalidArgument.WithMessage("invalid environment variable: " + kv)
		}
	}
	if wd := cfg.WorkingDir; wd != "" {
		if !filepath.IsAbs(wd) {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("the working directory '%s' is invalid, it needs to be an absolute path", wd))
		}
		cfg.WorkingDir = filepath.Clean(wd)
	}
	if cfg.StopSignal != "" {
		if _, err := parseSignal(cfg.StopSignal); err != nil {
			return err
		}
	}
	return nil
}
