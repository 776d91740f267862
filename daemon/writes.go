package daemon

import (
	"context"
	"errors"
	"os"
	"path"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/api/types/berth"
	"github.com/berth-project/berth/container"
)

// Bounds of a writes report: a hostile container can create any number of
// files, and any depth, in its layer.
const (
	maxWriteEntries = 100000
	maxWriteDepth   = 64
)

// ContainerWrites reports what a container wrote: the entries of its
// writable layer and the bytes in its volumes. The layer is walked through
// directory handles opened with O_NOFOLLOW, so a running container that
// swaps a directory for a symbolic link cannot send the walk out of it.
func (d *Daemon) ContainerWrites(ctx context.Context, name string) (*berth.Writes, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	out := &berth.Writes{Changes: []berth.Write{}, Volumes: []berth.VolumeUsage{}}
	if !c.ReadonlyRootfs() {
		fsys := imageFS{layers: c.Layers}
		out.Truncated, err = walkNoFollow(c.UpperDir(), func(rel string, st *unix.Stat_t) {
			p := "/" + rel
			w := berth.Write{Path: p, Kind: writeKind(st)}
			if w.Kind == "file" {
				w.Size = st.Size
			}
			if _, err := fsys.Attrs(p, false); err == nil {
				w.InImage = true
			}
			out.Changes = append(out.Changes, w)
		})
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	for _, m := range c.Mounts {
		if m.Type != container.MountVolume || m.VolumeName == "" {
			continue
		}
		v := berth.VolumeUsage{Destination: m.Destination, Name: m.VolumeName, Anonymous: m.Anonymous}
		truncated, err := walkNoFollow(d.volumes.Path(m.VolumeName), func(_ string, st *unix.Stat_t) {
			if st.Mode&unix.S_IFMT == unix.S_IFREG {
				v.Bytes += st.Size
			}
		})
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		out.Truncated = out.Truncated || truncated
		out.Volumes = append(out.Volumes, v)
	}
	return out, nil
}

// writeKind names an overlay upper entry; a 0/0 character device is a
// whiteout, a deletion.
func writeKind(st *unix.Stat_t) string {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "file"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			return "deleted"
		}
	}
	return "other"
}

// walkNoFollow calls fn for every entry below root (paths relative to it,
// parents first, names sorted), never following a symbolic link, up to
// maxWriteEntries entries and maxWriteDepth levels; truncated says it
// stopped early.
func walkNoFollow(root string, fn func(rel string, st *unix.Stat_t)) (truncated bool, err error) {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, &os.PathError{Op: "open", Path: root, Err: err}
	}
	count := 0
	var walk func(dirfd int, rel string, depth int) error
	walk = func(dirfd int, rel string, depth int) error {
		f := os.NewFile(uintptr(dirfd), path.Join(root, rel))
		defer f.Close()
		names, err := f.Readdirnames(-1)
		if err != nil {
			return err
		}
		slices.Sort(names)
		for _, name := range names {
			if count >= maxWriteEntries {
				truncated = true
				return nil
			}
			var st unix.Stat_t
			if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				continue // removed meanwhile
			}
			count++
			p := path.Join(rel, name)
			fn(p, &st)
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				continue
			}
			if depth+1 >= maxWriteDepth {
				truncated = true
				continue
			}
			child, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				continue // replaced meanwhile (by a link: ELOOP)
			}
			if err := walk(child, p, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return truncated, walk(fd, "", 0)
}
