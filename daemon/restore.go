package daemon

import (
	"os"
	"path/filepath"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/shimclient"
)

// restore loads every persisted container. Running ones whose shim still
// answers are watched again; those whose shim is gone get the exit their
// shim recorded, or are marked exited as lost. None is dropped.
func (d *Daemon) restore() error {
	entries, err := os.ReadDir(d.containersDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		c, err := container.FromDisk(filepath.Join(d.containersDir(), e.Name()))
		if err != nil {
			d.log.Warn("skip unreadable container", "dir", e.Name(), "err", err)
			continue
		}
		if c.State.Status == containertypes.StateRemoving {
			// A removal was interrupted: finish it.
			os.RemoveAll(c.Root)
			d.cleanupShimDir(c.ID)
			continue
		}
		d.containers.Add(c)
		l := d.liveOf(c.ID)
		if !c.State.IsRunning() && c.State.Status != containertypes.StateRestarting {
			d.cleanupShimDir(c.ID)
			continue
		}
		shim, err := shimclient.Connect(d.shimDir(c.ID), d.shimSocket(c.ID))
		if err == nil {
			l.shim = shim
			l.exited = make(chan struct{})
			d.monitor(c, l, shim, l.exited)
			d.log.Info("container reattached", "container", c.ID)
			continue
		}
		if c.State.Status == containertypes.StateRestarting {
			c.State.Status = containertypes.StateRunning
		}
		d.handleExit(c, l, d.exitAfterShimLoss(c), nil)
	}
	// Leftovers of runs whose containers are gone.
	shims, _ := os.ReadDir(d.shimsDir())
	for _, s := range shims {
		if _, err := d.containers.Get(s.Name()); err != nil {
			d.cleanupShimDir(s.Name())
		}
	}
	sockets, _ := os.ReadDir(filepath.Join(d.cfg.ExecRoot, "s"))
	for _, s := range sockets {
		id, _, _ := strings.Cut(s.Name(), ".")
		if _, err := d.containers.Get(id); err != nil {
			os.Remove(filepath.Join(d.cfg.ExecRoot, "s", s.Name()))
		}
	}
	return nil
}
