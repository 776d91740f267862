package bindprop

import (
	"fmt"
	"os"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// Open opens a bind's source on the host for CheckSource and Clone: both
// then act on the same object, whatever the path points at later.
func Open(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// CheckSource checks that the mount src (from Open) is on satisfies need,
// reading its propagation from the daemon's mountinfo; path names the
// source in the error.
func CheckSource(src *os.File, path string, need Need) error {
	if need == NeedNothing {
		return nil
	}
	var stx unix.Statx_t
	if err := unix.Statx(int(src.Fd()), "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx); err != nil {
		return fmt.Errorf("statx %s: %w", path, err)
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		return fmt.Errorf("statx %s: the kernel reports no mount id", path)
	}
	infos, err := mountinfo.GetMounts(func(i *mountinfo.Info) (skip, stop bool) {
		if uint64(i.ID) == stx.Mnt_id {
			return false, true
		}
		return true, false
	})
	if err != nil {
		return err
	}
	if len(infos) == 0 {
		return fmt.Errorf("the mount of %s (id %d) is not in the daemon's mount table", path, stx.Mnt_id)
	}
	return Check(need, path, infos[0].Mountpoint, infos[0].Optional)
}

// Clone returns a detached copy of the mount tree at src (only its top
// mount unless recursive), made in the caller's mount namespace: each
// copy of a shared mount joins that mount's peer group, so mounts made
// on the copy, wherever it is attached later, propagate to the host's
// source and back. Closing the file before the copy is attached dissolves
// it.
func Clone(src *os.File, recursive bool) (*os.File, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(int(src.Fd()), "", flags)
	if err != nil {
		return nil, fmt.Errorf("clone the mount of %s: %w", src.Name(), err)
	}
	return os.NewFile(uintptr(fd), src.Name()), nil
}

// Attach mounts the detached tree (from Clone) at target.
func Attach(tree *os.File, target string) error {
	if err := unix.MoveMount(int(tree.Fd()), "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("attach the clone of %s at %s: %w", tree.Name(), target, err)
	}
	return nil
}
