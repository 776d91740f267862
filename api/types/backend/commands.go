package backend

import (
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"
)

// CommitOptions describe POST /commit.
type CommitOptions struct {
	Ref     string                 // "name:tag" of the new image, or ""
	Comment string                 // the image's comment
	Author  string                 // the image's author
	Changes []string               // Dockerfile instructions applied to the config
	Pause   bool                   // pause a running container meanwhile
	Config  *containertypes.Config // fields over the container's config, or nil
}

// DiskUsage is GET /system/df as API versions up to 1.51 answer it.
// BuildCache is always empty: Berth does not build.
type DiskUsage struct {
	LayersSize int64
	Images     []image.Summary
	Containers []containertypes.Summary
	Volumes    []*volume.Volume
	BuildCache []struct{}
}
