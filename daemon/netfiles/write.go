package netfiles

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// maxFile bounds what WriteInPlace writes: these files are small.
const maxFile = 1 << 20

// WriteInPlace replaces the content of the file at path (in the daemon's
// container directory) keeping its inode: a running container sees it
// through a bind mount of that inode, which a rename would leave behind.
// The file is opened without following a symbolic link and must be a
// regular file; it is created with mode 0644 when missing. A reader may
// see the file empty or partly written for an instant, as with Docker.
func WriteInPlace(path string, data []byte) error {
	if len(data) > maxFile {
		return fmt.Errorf("write %s: %d bytes is too much for a network file", path, len(data))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("write %s: not a regular file", path)
	}
	// Truncate, then write: never a mix of old and new lines.
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
