package daemon

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/sys/user"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/config"
	"github.com/berth-project/berth/daemon/logconfig"
	"github.com/berth-project/berth/pkg/unionfs"
)

// defaultLogConfig is the daemon's --log-driver and --log-opt.
func (d *Daemon) defaultLogConfig() containertypes.LogConfig {
	return containertypes.LogConfig{Type: d.cfg.LogDriver, Config: maps.Clone(d.cfg.LogOpts)}
}

// initPath is the init binary --init bind-mounts into containers.
func (d *Daemon) initPath() string {
	if d.cfg.InitPath != "" {
		return d.cfg.InitPath
	}
	return config.DefaultInitPath
}

// resolveRunOptions decides, at create, the options of the container's
// process that HostConfig carries: its logging, whether an init runs as
// PID 1 and its supplementary groups. hc's LogConfig is set to the
// effective one, as Docker's inspect shows it.
func (d *Daemon) resolveRunOptions(c *container.Container, hc *containertypes.HostConfig, fsys imageFS) error {
	lc := hc.LogConfig
	if lc.Type == "" {
		lc = d.defaultLogConfig()
	}
	pol, err := logconfig.Resolve(lc, containertypes.LogConfig{})
	if err != nil {
		return err
	}
	c.Log = pol
	hc.LogConfig = containertypes.LogConfig{Type: pol.Driver, Config: maps.Clone(lc.Config)}
	if hc.LogConfig.Config == nil {
		hc.LogConfig.Config = map[string]string{}
	}

	c.Init = d.cfg.Init
	if hc.Init != nil {
		c.Init = *hc.Init
	}
	if c.Init {
		if st, err := os.Stat(d.initPath()); err != nil || st.IsDir() {
			return fmt.Errorf("--init: the init binary %s is missing (install Debian's tini package, or set berthd --init-path): %w", d.initPath(), errInvalid)
		}
	}

	gids, err := fsys.groupAdd(hc.GroupAdd)
	if err != nil {
		return err
	}
	c.User.AdditionalGids = addGids(c.User.AdditionalGids, gids)
	return nil
}

// groupAdd resolves --group-add entries (names in the image's /etc/group,
// or numbers) to gids.
func (f imageFS) groupAdd(names []string) ([]int, error) {
	if len(names) == 0 {
		return nil, nil
	}
	group, _ := unionfs.ReadFile(f.layers, "/etc/group")
	gids, err := user.GetAdditionalGroups(names, bytes.NewReader(group))
	if err != nil {
		// "unable to find group foo: no matching entries in group file"
		return nil, fmt.Errorf("%w: %w", err, errInvalid)
	}
	slices.Sort(gids)
	return gids, nil
}

// addGids appends the gids that base lacks.
func addGids(base, more []int) []int {
	for _, g := range more {
		if !slices.Contains(base, g) {
			base = append(base, g)
		}
	}
	return base
}
