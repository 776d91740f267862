package shim

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/pkg/copyup"
)

// VolumeCopy is a volume the shim fills with the image's content at
// Destination before the container is created, if the volume is empty.
type VolumeCopy struct {
	Destination string // in the container
	Path        string // the volume's directory on the host
}

// copyIntoVolume copies the content of the rootfs (the image's layers) at
// v.Destination into the volume, and gives the volume's root the mode and
// owner of that directory, as Docker does for a new volume. A volume that
// holds anything already, or a destination the image does not have as a
// directory, is left alone.
func copyIntoVolume(v VolumeCopy, rootfs string) error {
	empty, err := isEmptyDir(v.Path)
	if err != nil {
		return fmt.Errorf("volume for %s: %w", v.Destination, err)
	}
	if !empty {
		return nil
	}
	src, err := openDirInRoot(rootfs, v.Destination)
	if err != nil {
		return fmt.Errorf("volume for %s: %w", v.Destination, err)
	}
	if src == nil {
		return nil
	}
	defer src.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return fmt.Errorf("volume for %s: %w", v.Destination, err)
	}
	if err := copyup.DirFrom(src, v.Path); err != nil {
		return fmt.Errorf("copy the image's content into the volume for %s: %w", v.Destination, err)
	}
	if err := os.Lchown(v.Path, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("volume for %s: %w", v.Destination, err)
	}
	if err := unix.Chmod(v.Path, st.Mode&0o7777); err != nil {
		return fmt.Errorf("volume for %s: %w", v.Destination, err)
	}
	return nil
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}
