package daemon

import (
	"context"
	"fmt"
	"strings"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/types/backend"
)

// VolumeCreate creates a named volume, or returns the existing one.
func (d *Daemon) VolumeCreate(ctx context.Context, req volume.CreateRequest) (*volume.Volume, error) {
	v, created, err := d.volumes.Create(req.Name, req.Driver, req.DriverOpts, req.Labels)
	if err != nil {
		return nil, err
	}
	if created {
		d.volumeEvent(v.Name, eventtypes.ActionCreate, nil)
	}
	return d.volumes.API(v), nil
}

// VolumeList lists volumes, filtered by name, label and dangling.
func (d *Daemon) VolumeList(ctx context.Context, filters backend.Filters) ([]*volume.Volume, error) {
	out := []*volume.Volume{}
	for _, v := range d.volumes.List() {
		ok := true
		for _, n := range filters["name"] {
			if !strings.Contains(v.Name, n) {
				ok = false
			}
		}
		for _, l := range filters["label"] {
			k, val, hasVal := strings.Cut(l, "=")
			got, has := v.Labels[k]
			if !has || (hasVal && got != val) {
				ok = false
			}
		}
		if vals := filters["dangling"]; len(vals) > 0 {
			dangling := len(d.volumeUsers(v.Name, "")) == 0
			if (vals[0] == "true" || vals[0] == "1") != dangling {
				ok = false
			}
		}
		if ok {
			out = append(out, d.volumes.API(v))
		}
	}
	return out, nil
}

// VolumeInspect returns one volume.
func (d *Daemon) VolumeInspect(ctx context.Context, name string) (*volume.Volume, error) {
	v, err := d.volumes.Get(name)
	if err != nil {
		return nil, err
	}
	return d.volumes.API(v), nil
}

// VolumeRemove deletes a volume no container uses.
func (d *Daemon) VolumeRemove(ctx context.Context, name string, force bool) error {
	if _, err := d.volumes.Get(name); err != nil {
		if force {
			return nil
		}
		return err
	}
	if users := d.volumeUsers(name, ""); len(users) > 0 {
		return fmt.Errorf("remove %s: volume is in use - [%s]: %w", name, strings.Join(users, ", "), errConflict)
	}
	if err := d.volumes.Remove(name); err != nil {
		return err
	}
	d.volumeEvent(name, eventtypes.ActionDestroy, nil)
	return nil
}
