package daemon

import (
	"strings"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/shim"
)

// setTmpfsLowers tells the shim where each tmpfs copies its content from
// when it is nested in a bind or volume mount: copy-up gives a tmpfs what
// the container would see at its path without it, which is the content of
// the innermost mount below it. A tmpfs nested in another tmpfs copies
// from where that one does (the image's content at the path, or the mount
// it is nested in). The rootfs is the default.
func (d *Daemon) setTmpfsLowers(c *container.Container, tmpfs []shim.TmpfsMount) {
	for i := range tmpfs {
		m, ok := lowerMount(c.Mounts, tmpfs[i].Destination)
		if !ok {
			continue
		}
		switch m.Type {
		case container.MountBind:
			tmpfs[i].Lower = m.Source
		case container.MountVolume:
			tmpfs[i].Lower = d.volumes.Path(m.VolumeName)
		default:
			continue
		}
		tmpfs[i].LowerDestination = m.Destination
	}
}

// lowerMount returns the innermost bind or volume mount that holds dest,
// looking through tmpfs mounts that hold it (their content comes from
// below them too).
func lowerMount(mounts []container.Mount, dest string) (container.Mount, bool) {
	var best container.Mount
	found := false
	for _, m := range mounts {
		if m.Type == container.MountTmpfs || !pathHolds(m.Destination, dest) {
			continue
		}
		if !found || len(m.Destination) > len(best.Destination) {
			best, found = m, true
		}
	}
	return best, found
}

// pathHolds reports whether dest lies strictly below dir; both are clean
// absolute paths.
func pathHolds(dir, dest string) bool {
	return dir != dest && (dir == "/" || strings.HasPrefix(dest, dir+"/"))
}
