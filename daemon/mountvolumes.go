package daemon

import (
	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/container"
)

// createMountVolumes creates the volumes a new container mounts, as Docker
// does at create: a named volume that does not exist yet, and a fresh
// volume with a random name for each anonymous mount (-v /path, image
// VOLUME), with the labels of the mount's VolumeOptions (an existing
// volume keeps its own, as in Docker).
func (d *Daemon) createMountVolumes(c *container.Container) error {
	for i := range c.Mounts {
		m := &c.Mounts[i]
		if m.Type != container.MountVolume || (m.VolumeName != "" && !m.Anonymous && d.volumeExists(m.VolumeName)) {
			continue
		}
		v, created, err := d.volumes.Create(m.VolumeName, "", nil, m.VolumeLabels)
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
