package daemon

import (
	"context"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/daemon/layerdiff"
	"github.com/berth-project/berth/daemon/prunefilter"
)

// ContainersPrune removes the containers that do not run (created,
// exited, dead) and match the filters (until, label, label!).
func (d *Daemon) ContainersPrune(ctx context.Context, filters backend.Filters) (*containertypes.PruneReport, error) {
	f, err := prunefilter.Parse(filters, []string{"until", "label", "label!"}, time.Now())
	if err != nil {
		return nil, err
	}
	rep := &containertypes.PruneReport{ContainersDeleted: []string{}}
	for _, c := range d.containers.List() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.Lock()
		status := c.State.Status
		c.Unlock()
		switch status {
		case containertypes.StateCreated, containertypes.StateExited, containertypes.StateDead:
		default:
			continue
		}
		if !f.Match(c.Created, c.Config.Labels) {
			continue
		}
		size := layerdiff.Size(c.UpperDir())
		if err := d.remove(ctx, c, false, false); err != nil {
			// Started or removed meanwhile: not pruned.
			d.log.Debug("prune: container not removed", "container", c.ID, "err", err)
			continue
		}
		rep.ContainersDeleted = append(rep.ContainersDeleted, c.ID)
		rep.SpaceReclaimed += uint64(size)
	}
	d.pruneEvent(eventtypes.ContainerEventType, rep.SpaceReclaimed)
	return rep, nil
}

// VolumesPrune removes the volumes no container uses that match the
// filters (label, label!); only anonymous ones unless "all" is true.
func (d *Daemon) VolumesPrune(ctx context.Context, filters backend.Filters) (*volume.PruneReport, error) {
	f, err := prunefilter.Parse(filters, []string{"label", "label!", "all"}, time.Now())
	if err != nil {
		return nil, err
	}
	rep := &volume.PruneReport{VolumesDeleted: []string{}}
	for _, v := range d.volumes.List() {
		if !v.Anonymous && !f.All {
			continue
		}
		if !f.Match(time.Time{}, v.Labels) || len(d.volumeUsers(v.Name, "")) > 0 {
			continue
		}
		size := layerdiff.Size(d.volumes.Path(v.Name))
		if err := d.VolumeRemove(ctx, v.Name, false); err != nil {
			d.log.Debug("prune: volume not removed", "volume", v.Name, "err", err)
			continue
		}
		rep.VolumesDeleted = append(rep.VolumesDeleted, v.Name)
		rep.SpaceReclaimed += uint64(size)
	}
	d.pruneEvent(eventtypes.VolumeEventType, rep.SpaceReclaimed)
	return rep, nil
}

// ImagesPrune removes the images no container uses that match the
// filters (until, label, label!): only untagged ones unless dangling is
// false.
func (d *Daemon) ImagesPrune(ctx context.Context, filters backend.Filters) (*image.PruneReport, error) {
	f, err := prunefilter.Parse(filters, []string{"until", "label", "label!", "dangling"}, time.Now())
	if err != nil {
		return nil, err
	}
	before, _ := d.images.DiskUsage()
	rep := &image.PruneReport{ImagesDeleted: []image.DeleteResponse{}}
	inUse := func(id string) bool { return len(d.imageUsers(id)) > 0 }
	for _, img := range d.images.List() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if f.Dangling && (len(img.RepoTags) > 0 || d.images.HasChildren(img.ID)) {
			continue // as Docker: only dangling heads, not a commit's parent
		}
		if inUse(img.ID) || !f.Match(img.Created, img.Config.Config.Labels) {
			continue
		}
		resp, err := d.images.Delete(img.ID, true, inUse)
		if err != nil && !errdefs.IsNotFound(err) {
			d.log.Debug("prune: image not removed", "image", img.ID, "err", err)
		}
		for _, r := range resp {
			if r.Untagged != "" {
				d.imageEvent(r.Untagged, r.Untagged, eventtypes.ActionUnTag)
			}
			if r.Deleted != "" {
				d.removeImageMountpoints(r.Deleted)
				d.imageEvent(r.Deleted, r.Deleted, eventtypes.ActionDelete)
			}
		}
		rep.ImagesDeleted = append(rep.ImagesDeleted, resp...)
	}
	after, _ := d.images.DiskUsage()
	if before > after {
		rep.SpaceReclaimed = uint64(before - after)
	}
	d.pruneEvent(eventtypes.ImageEventType, rep.SpaceReclaimed)
	return rep, nil
}

// pruneEvent publishes Docker's prune event of an object type.
func (d *Daemon) pruneEvent(typ eventtypes.Type, reclaimed uint64) {
	d.events.Publish(eventtypes.Message{
		Type:   typ,
		Action: eventtypes.ActionPrune,
		Actor:  eventtypes.Actor{Attributes: map[string]string{"reclaimed": strconv.FormatUint(reclaimed, 10)}},
	})
}

// SystemDiskUsage answers GET /system/df.
func (d *Daemon) SystemDiskUsage(ctx context.Context) (*backend.DiskUsage, error) {
	layers, shared := d.images.DiskUsage()
	du := &backend.DiskUsage{
		LayersSize: layers,
		Images:     []image.Summary{},
		Containers: []containertypes.Summary{},
		Volumes:    []*volume.Volume{},
		BuildCache: []struct{}{},
	}
	for _, img := range d.images.List() {
		s := d.images.Summary(img)
		s.Containers = int64(len(d.imageUsers(img.ID)))
		s.SharedSize = shared[img.ID]
		du.Images = append(du.Images, s)
	}
	for _, c := range d.containers.List() {
		c.Lock()
		s := d.summary(c)
		c.Unlock()
		var rw int64
		if !c.ReadonlyRootfs() {
			rw = layerdiff.Size(c.UpperDir())
		}
		rootfs := rw
		if img, err := d.images.Get(c.ImageID); err == nil {
			rootfs += img.Size
		}
		s.SizeRw, s.SizeRootFs = rw, rootfs
		du.Containers = append(du.Containers, s)
	}
	for _, v := range d.volumes.List() {
		api := d.volumes.API(v)
		api.UsageData = &volume.UsageData{
			Size:     layerdiff.Size(d.volumes.Path(v.Name)),
			RefCount: int64(len(d.volumeUsers(v.Name, ""))),
		}
		du.Volumes = append(du.Volumes, api)
	}
	return du, nil
}
