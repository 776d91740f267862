package netfiles

import (
	"bytes"
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

// Written is what WriteInPlaceRecord left in a file: the data, and the
// file's identity, size and change times right after the write. A later
// write of the same data can be skipped while the file is Unchanged: any
// write to it since (by a container through its bind mount, by the
// daemon, by a user on the host) changes its size or its times.
type Written struct {
	data         []byte
	ino          uint64
	size         int64
	mtime, ctime unix.Timespec
}

// WriteInPlaceRecord is WriteInPlace, returning what it wrote.
func WriteInPlaceRecord(path string, data []byte) (Written, error) {
	if err := WriteInPlace(path, data); err != nil {
		return Written{}, err
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return Written{}, fmt.Errorf("write %s: %w", path, err)
	}
	return Written{data: data, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}, nil
}

// Unchanged reports whether the file at path still holds exactly what w
// recorded and w's data equals data, so that writing data is a no-op.
func (w Written) Unchanged(path string, data []byte) bool {
	if w.data == nil || !bytes.Equal(w.data, data) {
		return false
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFREG && st.Ino == w.ino && st.Size == w.size && st.Mtim == w.mtime && st.Ctim == w.ctime
}
