package shim

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/berth-project/berth/pkg/copyup"
	securejoin "github.com/cyphar/filepath-securejoin"
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
		src, err := securejoin.SecureJoin(root, rel)
		if err != nil {
			return fmt.Errorf("tmpfs %s: resolve in rootfs: %w", t.Destination, err)
		}
		fi, err := os.Lstat(src)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return fmt.Errorf("tmpfs %s: %w", t.Destination, err)
		case fi.IsDir():
			if err := copyup.Dir(src, t.Staging); err != nil {
				return fmt.Errorf("tmpfs %s: %w", t.Destination, err)
			}
		}
	}
	return nil
}
