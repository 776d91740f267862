package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/container"
)

// removingPrefix marks, in the containers directory, the directory of a
// container being deleted; restore deletes what a crash left of one.
const removingPrefix = ".removing-"

// ContainerRemove deletes a container; a running one only with force.
func (d *Daemon) ContainerRemove(ctx context.Context, name string, force, removeVolumes bool) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	return d.remove(ctx, c, force, removeVolumes)
}

func (d *Daemon) remove(ctx context.Context, c *container.Container, force, removeVolumes bool) error {
	c.Lock()
	if c.State.IsRunning() {
		if !force {
			c.Unlock()
			return fmt.Errorf("cannot remove container %q: container is running: stop the container before removing or force remove: %w", c.Name, errConflict)
		}
		l := d.liveOf(c.ID)
		shim, exited := l.shim, l.exited
		l.stopping = true
		paused := c.State.Status == containertypes.StatePaused
		c.Unlock()
		if shim != nil {
			if err := shim.Kill(ctx, "KILL", true); err != nil {
				d.log.Warn("kill for removal", "container", c.ID, "err", err)
			}
			if paused {
				_ = shim.Resume(ctx)
			}
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				return fmt.Errorf("could not kill running container %s, cannot remove: timed out: %w", c.ID, errConflict)
			}
		}
		c.Lock()
	}
	if c.State.Status == containertypes.StateRestarting {
		if !force {
			c.Unlock()
			return fmt.Errorf("cannot remove container %q: container is restarting: stop the container before removing or force remove: %w", c.Name, errConflict)
		}
		// The pending restart sees the container gone and does nothing.
		d.liveOf(c.ID).stopping = true
	}
	if c.State.Status == containertypes.StateRemoving {
		c.Unlock()
		return fmt.Errorf("removal of container %s is already in progress: %w", c.ID, errConflict)
	}
	if _, err := d.containers.Get(c.ID); err != nil {
		c.Unlock()
		return err // removed meanwhile (by --rm)
	}
	if err := c.State.Transition(containertypes.StateRemoving); err != nil {
		c.Unlock()
		return err
	}
	defer c.Unlock()
	if d.liveOf(c.ID).prev == nil {
		// Else the last run's shim is still deleting the runtime's state;
		// retireShim removes its directory when it is gone.
		d.cleanupShimDir(c.ID)
	}
	// The container's directory is renamed away first, in one step: a
	// daemon that dies in the middle of deleting it then finds either the
	// whole container or a directory restore knows to delete, never a
	// half-deleted container it cannot read.
	trash := filepath.Join(filepath.Dir(c.Root), removingPrefix+filepath.Base(c.Root))
	if err := os.Rename(c.Root, trash); err != nil {
		c.State.Reconcile(containertypes.StateDead)
		_ = c.ToDisk()
		return fmt.Errorf("unable to remove filesystem for %s: %w", c.ID, err)
	}
	d.crashPoint("after-rename")
	d.containers.Delete(c)
	if removeVolumes {
		d.removeAnonymousVolumes(c)
	}
	l := d.liveOf(c.ID)
	d.notify(l, c, true)
	d.mu.Lock()
	delete(d.live, c.ID)
	d.mu.Unlock()
	d.networkDown(c)
	if err := d.networks.Forget(c.ID); err != nil {
		d.log.Warn("forget the networks of a removed container", "container", c.ID, "err", err)
	}
	d.containerEvent(c, eventtypes.ActionDestroy, nil)
	d.log.Info("container removed", "container", c.ID)
	// The container is gone from the moment its directory was renamed
	// away (restore deletes such a directory): its waiters (run --rm)
	// have their answer without waiting for this delete; the caller of
	// a removal returns after it.
	if err := os.RemoveAll(trash); err != nil {
		d.log.Warn("delete the directory of a removed container", "container", c.ID, "err", err)
	}
	return nil
}

// removeAnonymousVolumes deletes the container's anonymous volumes that no
// other container uses.
func (d *Daemon) removeAnonymousVolumes(c *container.Container) {
	for _, m := range c.Mounts {
		if m.Type != container.MountVolume || !m.Anonymous || m.VolumeName == "" {
			continue
		}
		if len(d.volumeUsers(m.VolumeName, c.ID)) > 0 {
			continue
		}
		if err := d.volumes.Remove(m.VolumeName); err != nil {
			d.log.Warn("remove anonymous volume", "volume", m.VolumeName, "err", err)
		}
	}
}

// volumeUsers lists the containers other than except that mount volume.
func (d *Daemon) volumeUsers(volume, except string) []string {
	var users []string
	for _, c := range d.containers.List() {
		if c.ID == except {
			continue
		}
		for _, m := range c.Mounts {
			if m.Type == container.MountVolume && m.VolumeName == volume {
				users = append(users, c.ID)
				break
			}
		}
	}
	return users
}
