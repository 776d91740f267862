package daemon

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/api/types/image"

	"github.com/berth-project/berth/api/types/backend"
)

// ImageLoad loads an image archive.
func (d *Daemon) ImageLoad(ctx context.Context, r io.Reader) ([]string, error) {
	return d.images.Load(ctx, r)
}

// ImageImport makes a one-layer image from a rootfs tar.
func (d *Daemon) ImageImport(ctx context.Context, r io.Reader, ref, message string, changes []string) (string, error) {
	img, err := d.images.Import(ctx, r, ref, message, changes)
	if err != nil {
		return "", err
	}
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
		if refs, ok := filters["reference"]; ok && len(refs) > 0 {
			match := false
			for _, want := range refs {
				for _, tag := range img.RepoTags {
					name, _, _ := strings.Cut(tag, ":")
					if tag == want || name == want {
						match = true
					}
				}
			}
			if !match {
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
	return d.images.Delete(name, force, func(id string) bool { return len(d.imageUsers(id)) > 0 })
}

// ImageTag adds a reference to an image.
func (d *Daemon) ImageTag(ctx context.Context, source, ref string) error {
	return d.images.Tag(source, ref)
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
