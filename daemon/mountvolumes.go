package daemon

import (
	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/container"
)

// createMountVolumes creates the volumes a new container mounts, as Docker
// does at create: a named volume that does not exist yet, and a fresh
// volume with a random name for each anonymous mount (-v /path, image
// VOLUME), with the labels and driver options of the mount's VolumeOptions
// (an existing volume keeps its own labels, as in Docker, and must have
// the same options: they are not silently dropped).
func (d *Daemon) createMountVolumes(c *container.Container) error {
	for i := range c.Mounts {
		m := &c.Mounts[i]
		if m.Type != container.MountVolume || (m.VolumeName != "" && !m.Anonymous && len(m.VolumeDriverOpts) == 0 && d.volumeExists(m.VolumeName)) {
			continue
		}
		v, created, err := d.volumes.Create(m.VolumeName, "", m.VolumeDriverOpts, m.VolumeLabels)
		if err != nil {
			return err
		}
		m.VolumeName = v.Name
		if created {
			d.volumeEvent(v.Name, eventtypes.ActionCreate, nil)
		}
	}
	return nil
}

func (d *Daemon) volumeExists(name string) bool {
	_, err := d.volumes.Get(name)
	return err == nil
}

// acquireVolumes mounts the volumes with options that c uses (a tmpfs, a
// bound directory) before its shim starts, so that the shim's mount
// namespace has them. On failure nothing it mounted stays.
func (d *Daemon) acquireVolumes(c *container.Container) error {
	for _, m := range c.Mounts {
		if m.Type != container.MountVolume || m.VolumeName == "" {
			continue
		}
		if err := d.volumes.Acquire(m.VolumeName, c.ID); err != nil {
			d.releaseVolumes(c)
			return err
		}
	}
	return nil
}

// releaseVolumes gives back what acquireVolumes took: the last container to
// release a volume unmounts it, and a tmpfs volume's content goes.
func (d *Daemon) releaseVolumes(c *container.Container) {
	for _, m := range c.Mounts {
		if m.Type != container.MountVolume || m.VolumeName == "" {
			continue
		}
		if err := d.volumes.Release(m.VolumeName, c.ID); err != nil {
			d.log.Warn("unmount volume", "volume", m.VolumeName, "container", c.ID, "err", err)
		}
	}
}

// reconcileVolumes rebuilds, after a restart, who holds each mounted
// volume from the containers that really run, and unmounts the volumes
// none of them uses.
func (d *Daemon) reconcileVolumes() {
	running := map[string][]string{}
	for _, c := range d.containers.List() {
		c.Lock()
		if c.State.IsRunning() {
			for _, m := range c.Mounts {
				if m.Type == container.MountVolume && m.VolumeName != "" {
					running[m.VolumeName] = append(running[m.VolumeName], c.ID)
				}
			}
		}
		c.Unlock()
	}
	for _, err := range d.volumes.Reconcile(running) {
		d.log.Warn("reconcile volume mounts", "err", err)
	}
}
