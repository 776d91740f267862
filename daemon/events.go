package daemon

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/distribution/reference"
	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/events"
)

// Events returns the past events since `since` (none when zero) and a
// channel of the future ones, both selected by filters. cancel ends the
// subscription. The caller stops reading at `until`.
func (d *Daemon) Events(ctx context.Context, since, until time.Time, filters backend.Filters) ([]eventtypes.Message, <-chan eventtypes.Message, func(), error) {
	f := events.Filter(filters)
	if err := f.Validate(); err != nil {
		return nil, nil, nil, err
	}
	past, live, cancel := d.events.Subscribe(since, f)
	if !until.IsZero() {
		kept := past[:0]
		for _, m := range past {
			if m.TimeNano <= until.UnixNano() {
				kept = append(kept, m)
			}
		}
		past = kept
	}
	return past, live, cancel, nil
}

// containerEvent publishes an event about c with Docker's attributes: the
// container's labels, its name and image, and extra.
func (d *Daemon) containerEvent(c *container.Container, action eventtypes.Action, extra map[string]string) {
	attrs := map[string]string{}
	if c.Config != nil {
		maps.Copy(attrs, c.Config.Labels)
	}
	attrs["name"] = strings.TrimPrefix(c.Name, "/")
	attrs["image"] = c.ImageRef
	maps.Copy(attrs, extra)
	d.events.Publish(eventtypes.Message{
		Type:   eventtypes.ContainerEventType,
		Action: action,
		Actor:  eventtypes.Actor{ID: c.ID, Attributes: attrs},
	})
}

// imageEvent publishes an event about an image; name is the reference
// concerned (or the ID).
func (d *Daemon) imageEvent(id, name string, action eventtypes.Action) {
	if name == "" {
		name = id
	}
	// Docker names images in events the short way: busybox:latest.
	if named, err := reference.ParseNormalizedNamed(name); err == nil && !strings.HasPrefix(name, "sha256:") {
		name = reference.FamiliarString(named)
	}
	d.events.Publish(eventtypes.Message{
		Type:   eventtypes.ImageEventType,
		Action: action,
		Actor:  eventtypes.Actor{ID: id, Attributes: map[string]string{"name": name}},
	})
}

// volumeEvent publishes an event about a local volume.
func (d *Daemon) volumeEvent(name string, action eventtypes.Action, extra map[string]string) {
	attrs := map[string]string{"driver": "local"}
	maps.Copy(attrs, extra)
	d.events.Publish(eventtypes.Message{
		Type:   eventtypes.VolumeEventType,
		Action: action,
		Actor:  eventtypes.Actor{ID: name, Attributes: attrs},
	})
}

// networkEvent publishes an event about a network; containerID is set for
// connect and disconnect.
func (d *Daemon) networkEvent(id, name, driver string, action eventtypes.Action, containerID string) {
	attrs := map[string]string{"name": name, "type": driver}
	if containerID != "" {
		attrs["container"] = containerID
	}
	d.events.Publish(eventtypes.Message{
		Type:   eventtypes.NetworkEventType,
		Action: action,
		Actor:  eventtypes.Actor{ID: id, Attributes: attrs},
	})
}
