package shim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/pkg/bindprop"
	"github.com/berth-project/berth/pkg/copyup"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// mountRootfs mounts the overlay of the image layers and the container's
// layers at target.
func mountRootfs(r Rootfs, target string) error {
	opts := "lowerdir=" + strings.Join(r.Lower, ":")
	var flags uintptr
	if r.Upper != "" {
		opts += ",upperdir=" + r.Upper + ",workdir=" + r.Work
	} else {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("overlay", target, "overlay", flags, opts); err != nil {
		return fmt.Errorf("mount rootfs overlay on %s: %w", target, err)
	}
	return nil
}

// mountTmpfs mounts a fresh tmpfs at t.Staging with the flags and data
// decided at create (the data gives its root the mode and owner), and
// copies the rootfs content at t.Destination onto it.
func mountTmpfs(t TmpfsMount, rootfs string) error {
	if err := os.MkdirAll(t.Staging, 0o700); err != nil {
		return err
	}
	// Writable for the copy-up: the spec's bind mount makes it read-only.
	flags := t.Flags &^ unix.MS_RDONLY
	if err := unix.Mount("tmpfs", t.Staging, "tmpfs", flags, t.Data); err != nil {
		return fmt.Errorf("mount tmpfs for %s with flags %#x and %q: %w", t.Destination, flags, t.Data, err)
	}
	if t.CopyUp {
		root, rel := rootfs, t.Destination
		if t.Lower != "" {
			root, rel = t.Lower, strings.TrimPrefix(t.Destination, t.LowerDestination)
		}
		if err := copyUpFrom(root, rel, t.Staging); err != nil {
			return fmt.Errorf("tmpfs %s: %w", t.Destination, err)
		}
	}
	return nil
}

// copyUpFrom copies the directory at rel inside root (image content, whose
// symlinks may point anywhere) into dst. The directory is opened by a
// walk that cannot leave root, and copied by handle; a missing path or a
// non-directory copies nothing.
func copyUpFrom(root, rel, dst string) error {
	src, err := openDirInRoot(root, rel)
	if err != nil || src == nil {
		return err
	}
	defer src.Close()
	return copyup.DirFrom(src, dst)
}

// openDirInRoot opens the directory at rel inside root, symlinks resolved
// inside root; nil when there is none.
func openDirInRoot(root, rel string) (*os.File, error) {
	h, err := pathrs.OpenInRoot(root, rel)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s in the rootfs: %w", rel, err)
	}
	defer h.Close()
	fi, err := h.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, nil
	}
	return pathrs.Reopen(h, unix.O_RDONLY|unix.O_DIRECTORY)
}

// mountSubpath binds sp.Subpath of the volume at sp.Staging. The path is
// opened by a walk that cannot leave the volume (a symlink planted by a
// container resolves inside it), and the bind takes that handle through
// /proc/self/fd, so nothing is resolved again by path afterwards. A
// missing subpath is an error, as in Docker.
func mountSubpath(sp SubpathMount) error {
	h, err := pathrs.OpenInRoot(sp.Volume, sp.Subpath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("volume subpath %q for %s does not exist in the volume: %w", sp.Subpath, sp.Destination, err)
		}
		return fmt.Errorf("volume subpath %q for %s: %w", sp.Subpath, sp.Destination, err)
	}
	defer h.Close()
	fi, err := h.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		err = os.MkdirAll(sp.Staging, 0o700)
	} else {
		if err = os.MkdirAll(filepath.Dir(sp.Staging), 0o700); err == nil {
			var f *os.File
			if f, err = os.OpenFile(sp.Staging, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
				f.Close()
			}
		}
	}
	if err != nil {
		return err
	}
	src := fmt.Sprintf("/proc/self/fd/%d", h.Fd())
	if err := unix.Mount(src, sp.Staging, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind volume subpath %q for %s: %w", sp.Subpath, sp.Destination, err)
	}
	return nil
}

// attachSharedBinds attaches each clone of a shared bind's source at its
// staging path, then closes every clone (one that is not attached
// dissolves). The clones' mounts stay peers of the host's: a mount the
// container makes below its bind reaches the host's source. Nothing else
// of the shim's reaches the host: the staging path's parent is a slave
// mount of the shim's namespace, which sends no mount events back.
func attachSharedBinds(binds []SharedBind, trees []*os.File) error {
	defer func() {
		for _, t := range trees {
			t.Close()
		}
	}()
	if len(trees) != len(binds) {
		return fmt.Errorf("the daemon passed %d mount clones for %d shared binds", len(trees), len(binds))
	}
	for i, b := range binds {
		if err := stagingLike(trees[i], b.Staging); err != nil {
			return err
		}
		if err := bindprop.Attach(trees[i], b.Staging); err != nil {
			return fmt.Errorf("bind %s for %s: %w", b.Source, b.Destination, err)
		}
	}
	return nil
}

// checkSharedStaging checks that each attached clone is still a shared
// mount, a peer of the host's source.
func checkSharedStaging(binds []SharedBind) error {
	for _, b := range binds {
		f, err := bindprop.Open(b.Staging)
		if err != nil {
			return err
		}
		err = bindprop.CheckSource(f, b.Staging, bindprop.NeedShared)
		f.Close()
		if err != nil {
			return fmt.Errorf("bind %s for %s: the shim's copy is no longer shared: %w", b.Source, b.Destination, err)
		}
	}
	return nil
}

// stagingLike creates the mount point for tree at path: a directory, or an
// empty file when the source is a file (a mount point must be of the same
// kind).
func stagingLike(tree *os.File, path string) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(tree.Fd()), &st); err != nil {
		return fmt.Errorf("stat the clone of %s: %w", tree.Name(), err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return os.MkdirAll(path, 0o700)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}
