package daemon

import (
	"context"
	"io/fs"
	"path/filepath"
	"syscall"
)

// ContainerSize reports what Docker's size=1 adds to inspect and the
// container list: the bytes of the container's writable layer (SizeRw; a
// read-only container has none, and tmpfs content is memory, not disk) and
// of its whole root filesystem, image included (SizeRootFs).
func (d *Daemon) ContainerSize(ctx context.Context, name string) (rw, rootfs int64, err error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return 0, 0, err
	}
	c.Lock()
	upper, readonly, imageID := c.UpperDir(), c.ReadonlyRootfs(), c.ImageID
	c.Unlock()
	if !readonly {
		rw = treeSize(upper)
	}
	rootfs = rw
	if img, err := d.images.Get(imageID); err == nil {
		rootfs += img.Size
	}
	return rw, rootfs, nil
}

// treeSize sums the sizes of the regular files under dir, each hard-linked
// file once. The tree is the container's writable layer, which its
// processes change meanwhile: entries that vanish are skipped, and
// symlinks are never followed.
func treeSize(dir string) int64 {
	var size int64
	seen := map[uint64]bool{}
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		size += info.Size()
		return nil
	})
	return size
}
