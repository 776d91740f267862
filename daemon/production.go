package daemon

import (
	"context"
	"fmt"

	"github.com/berth-project/berth/api/types/berth"
	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/mountspec"
	"github.com/berth-project/berth/daemon/prodmode"
)

// productionDefaults are the daemon's production-mode settings.
func (d *Daemon) productionDefaults() prodmode.Defaults {
	return prodmode.Defaults{ReadOnly: d.cfg.ReadOnlyDefault, ReadOnlyTmpfs: d.cfg.ReadOnlyTmpfs}
}

// productionLabels are the production-mode defaults as info's daemon
// labels.
func (d *Daemon) productionLabels() []string {
	return []string{
		fmt.Sprintf("io.berth.read-only-default=%t", d.cfg.ReadOnlyDefault),
		fmt.Sprintf("io.berth.read-only-tmpfs=%t", d.cfg.ReadOnlyTmpfs),
	}
}

// defaultTmpfs hands the production mode's tmpfs to the mount resolution.
func defaultTmpfs(dec prodmode.Decision) []mountspec.DefaultTmpfs {
	out := make([]mountspec.DefaultTmpfs, 0, len(dec.Tmpfs))
	for _, t := range dec.Tmpfs {
		out = append(out, mountspec.DefaultTmpfs{Destination: t.Destination, Options: t.Options, Origin: t.Origin})
	}
	return out
}

// ContainerProduction reports what the production mode applied to a
// container; nil when it applied nothing.
func (d *Daemon) ContainerProduction(ctx context.Context, name string) (*berth.Production, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	return production(c), nil
}

// production is the inspect view of a container's production mode.
func production(c *container.Container) *berth.Production {
	p := &berth.Production{ReadOnly: c.ReadonlyRootfs(), ReadOnlyFrom: c.ReadOnlyFrom, Tmpfs: []berth.ProductionTmpfs{}}
	for _, m := range c.Mounts {
		if m.Origin == "" || m.Tmpfs == nil {
			continue
		}
		p.Tmpfs = append(p.Tmpfs, berth.ProductionTmpfs{Destination: m.Destination, Options: m.Tmpfs.Options, From: m.Origin})
	}
	// Nothing applied: the inspect body stays exactly Docker's.
	if (p.ReadOnlyFrom == "" || p.ReadOnlyFrom == prodmode.FromRequest) && len(p.Tmpfs) == 0 {
		return nil
	}
	return p
}
