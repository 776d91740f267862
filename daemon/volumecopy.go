package daemon

import (
	"strings"

	"github.com/berth-project/berth/container"
)

// copiesImageContent reports whether a volume mount gets the image's
// content at its destination when the volume is empty, as in Docker: every
// volume mount unless -v ...:nocopy or --mount volume-nocopy.
func copiesImageContent(m container.Mount) bool {
	if m.Type != container.MountVolume {
		return false
	}
	for _, o := range strings.Split(m.Mode, ",") {
		if o == "nocopy" {
			return false
		}
	}
	return true
}
