package daemon

import (
	"strconv"

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
// namespace has them, and then publishes Docker's mount event for each of
// c's volume mounts. On failure nothing it mounted stays and no event is
// published.
func (d *Daemon) acquireVolumes(c *container.Container) error {
	mounts := volumeMounts(c.Mounts)
	for _, m := range mounts {
		if err := d.volumes.Acquire(m.VolumeName, c.ID); err != nil {
			d.releaseVolumes(c, false)
			return err
		}
	}
	for _, m := range mounts {
		d.volumeEvent(m.VolumeName, eventtypes.ActionMount, volumeMountAttributes(c.ID, m))
	}
	return nil
}

// releaseVolumes gives back what acquireVolumes took: the last container to
// release a volume unmounts it, and a tmpfs volume's content goes. With
// announce (the run's mount events were published), each volume released
// gets Docker's unmount event, as Docker's cleanup after a run sends it.
func (d *Daemon) releaseVolumes(c *container.Container, announce bool) {
	for _, m := range volumeMounts(c.Mounts) {
		if err := d.volumes.Release(m.VolumeName, c.ID); err != nil {
			// As Docker: a volume that failed to unmount is not
			// reported unmounted.
			d.log.Warn("unmount volume", "volume", m.VolumeName, "container", c.ID, "err", err)
			continue
		}
		if announce {
			d.volumeEvent(m.VolumeName, eventtypes.ActionUnmount, map[string]string{"container": c.ID})
		}
	}
}

// volumeMounts are the mounts of named (or anonymous, named at create)
// volumes among mounts, in order.
func volumeMounts(mounts []container.Mount) []container.Mount {
	var out []container.Mount
	for _, m := range mounts {
		if m.Type == container.MountVolume && m.VolumeName != "" {
			out = append(out, m)
		}
	}
	return out
}

// volumeMountAttributes are the attributes of Docker's volume mount event
// for m, a volume mount of container id (the driver is added by
// volumeEvent): where it is mounted, whether read-write, and its
// propagation ("" unless set on the mount, as inspect shows it).
func volumeMountAttributes(id string, m container.Mount) map[string]string {
	return map[string]string{
		"container":   id,
		"destination": m.Destination,
		"read/write":  strconv.FormatBool(!m.ReadOnly),
		"propagation": m.Propagation,
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
