package daemon

import (
	"fmt"
	"path"
	"sort"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/container"
)

// checkRequestedVolumes refuses an anonymous volume the request asked for
// (Config.Volumes, what `-v /p` sends) on a destination that another mount
// of the request (--tmpfs, --mount, a bind) also uses. resolveMounts lets any
// mount replace a Config.Volumes entry because the image's VOLUMEs arrive
// there too, and a tmpfs on an image VOLUME path must replace the volume;
// a volume the user asked for explicitly is a conflict instead, the same
// "Duplicate mount point" as for every other pair of mount kinds.
//
// req is the request's own Config, before the image's settings are merged
// in; mounts is what resolveMounts made of the request.
func checkRequestedVolumes(req *containertypes.Config, mounts []container.Mount) error {
	if req == nil {
		return nil
	}
	vols := make([]string, 0, len(req.Volumes))
	for v := range req.Volumes {
		vols = append(vols, v)
	}
	sort.Strings(vols)
	for _, v := range vols {
		if v == "" || !path.IsAbs(v) {
			continue // resolveMounts has refused it already
		}
		dst := path.Clean(v)
		for _, m := range mounts {
			if m.Destination == dst && !plainAnonymousVolume(m) {
				return fmt.Errorf("Duplicate mount point: %s: %w", dst, errInvalid)
			}
		}
	}
	return nil
}

// plainAnonymousVolume reports whether m is an anonymous local volume
// without options: what a Config.Volumes entry (or a bare `-v /p` bind)
// becomes.
func plainAnonymousVolume(m container.Mount) bool {
	return m.Type == container.MountVolume && m.Anonymous && !m.FromAPIMounts && m.Mode == "" && m.VolumeName == ""
}
