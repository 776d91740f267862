package daemon

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"

	"github.com/berth-project/berth/api/types/backend"
)

// ImageLoad loads an image archive.
func (d *Daemon) ImageLoad(ctx context.Context, r io.Reader) ([]string, error) {
	refs, err := d.images.Load(ctx, r)
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		id := ref
		if img, err := d.images.Get(ref); err == nil {
			id = img.ID
		}
		d.imageEvent(id, ref, eventtypes.ActionLoad)
	}
	return refs, nil
}

// ImageImport makes a one-layer image from a rootfs tar.
func (d *Daemon) ImageImport(ctx context.Context, r io.Reader, ref, message string, changes []string) (string, error) {
	img, err := d.images.Import(ctx, r, ref, message, changes)
	if err != nil {
		return "", err
	}
	d.imageEvent(img.ID, ref, eventtypes.ActionImport)
	return img.ID, nil
}

// ImageList lists images, filtered by reference, dangling and label.
func (d *Daemon) ImageList(ctx context.Context, all bool, filters backend.Filters) ([]image.Summary, error) {
	for k := range filters {
		switch k {
		case "reference", "dangling", "label":
		default:
			return nil, fmt.Errorf("invalid filter '%s': %w", k, errInvalid)
		}
	}
	out := []image.Summary{}
	for _, img := range d.images.List() {
		// As Docker, a reference filter also limits the tags shown to the
		// matching ones; patterns are path.Match globs ("busy*:v1").
		var matchedTags []string
		refs, byRef := filters["reference"]
		byRef = byRef && len(refs) > 0
		if byRef {
			for _, tag := range img.RepoTags {
				name := tag
				if i := strings.LastIndex(tag, ":"); i > strings.LastIndex(tag, "/") {
					name = tag[:i]
				}
				for _, want := range refs {
					okTag, _ := path.Match(want, tag)
					okName, _ := path.Match(want, name)
					if okTag || okName {
						matchedTags = append(matchedTags, tag)
						break
					}
				}
			}
			if len(matchedTags) == 0 {
				continue
			}
		}
		if vals, ok := filters["dangling"]; ok && len(vals) > 0 {
			dangling := len(img.RepoTags) == 0
			if (vals[0] == "true" || vals[0] == "1") != dangling {
				continue
			}
		}
		match := true
		for _, v := range filters["label"] {
			k, val, hasVal := strings.Cut(v, "=")
			got, ok := img.Config.Config.Labels[k]
			if !ok || (hasVal && got != val) {
				match = false
			}
		}
		if !match {
			continue
		}
		s := d.images.Summary(img)
		if byRef {
			s.RepoTags = matchedTags
		}
		s.Containers = int64(len(d.imageUsers(img.ID)))
		out = append(out, s)
	}
	return out, nil
}

// ImageInspect returns one image.
func (d *Daemon) ImageInspect(ctx context.Context, name string) (*image.InspectResponse, error) {
	img, err := d.images.Get(name)
	if err != nil {
		return nil, err
	}
	resp := d.images.Inspect(img)
	return &resp, nil
}

// ImageDelete untags or deletes an image; one used by a container only
// with force.
func (d *Daemon) ImageDelete(ctx context.Context, name string, force, prune bool) ([]image.DeleteResponse, error) {
	resp, err := d.images.Delete(name, force, func(id string) bool { return len(d.imageUsers(id)) > 0 })
	for _, r := range resp {
		if r.Untagged != "" {
			d.imageEvent(r.Untagged, r.Untagged, eventtypes.ActionUnTag)
		}
		if r.Deleted != "" {
			d.removeImageMountpoints(r.Deleted)
			d.imageEvent(r.Deleted, r.Deleted, eventtypes.ActionDelete)
		}
	}
	return resp, err
}

// ImageTag adds a reference to an image.
func (d *Daemon) ImageTag(ctx context.Context, source, ref string) error {
	if err := d.images.Tag(source, ref); err != nil {
		return err
	}
	id := source
	if img, err := d.images.Get(ref); err == nil {
		id = img.ID
	}
	d.imageEvent(id, ref, eventtypes.ActionTag)
	return nil
}

func (d *Daemon) imageUsers(id string) []string {
	var users []string
	for _, c := range d.containers.List() {
		if c.ImageID == id {
			users = append(users, c.ID)
		}
	}
	return users
}
