// Package copyup copies a directory tree onto another file system keeping
// everything a container image cares about: content, owners, modes, times,
// extended attributes, symlinks (recreated, never followed) and hardlinks.
//
// Every step works on file descriptors relative to the two roots, with
// O_NOFOLLOW, so a symlink in the source can never lead the copy outside
// of it and nothing is ever written outside the destination.
package copyup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Dir copies the content of the directory src into the existing directory
// dst. The root of dst keeps its own mode and owner. The last element of
// src must not be a symlink; one in an earlier element is followed: a
// caller whose src lies in content it does not trust opens it safely and
// uses DirFrom.
func Dir(src, dst string) error {
	sfd, err := unix.Open(src, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("copy-up: open %s: %w", src, err)
	}
	f := os.NewFile(uintptr(sfd), src)
	defer f.Close()
	return DirFrom(f, dst)
}

// DirFrom copies the content of the open directory src into the existing
// directory dst, as Dir does.
func DirFrom(src *os.File, dst string) error {
	dfd, err := unix.Open(dst, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("copy-up: open %s: %w", dst, err)
	}
	defer unix.Close(dfd)
	c := &copier{links: map[inode]string{}, dstRoot: dfd}
	if err := c.children(int(src.Fd()), dfd, ""); err != nil {
		return fmt.Errorf("copy-up %s: %w", src.Name(), err)
	}
	return nil
}

type inode struct{ dev, ino uint64 }

type copier struct {
	links   map[inode]string // first copied path of a multiply linked file
	dstRoot int
}

func (c *copier) children(sfd, dfd int, rel string) error {
	names, err := readDirNames(sfd)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := c.entry(sfd, dfd, name, rel+"/"+name); err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) entry(sfd, dfd int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(sfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			// Listed but not there: gone since (the source is live), or
			// an overlayfs whiteout that a directory of one layer lists.
			return nil
		}
		return fmt.Errorf("stat %s: %w", rel, err)
	}
	mode := st.Mode & unix.S_IFMT
	if mode != unix.S_IFDIR && st.Nlink > 1 {
		key := inode{uint64(st.Dev), st.Ino}
		if first, ok := c.links[key]; ok {
			if err := unix.Linkat(c.dstRoot, strings.TrimPrefix(first, "/"), dfd, name, 0); err != nil {
				return fmt.Errorf("link %s: %w", rel, err)
			}
			return nil
		}
		c.links[key] = rel
	}
	switch mode {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
			return fmt.Errorf("mkdir %s: %w", rel, err)
		}
		subS, err := unix.Openat(sfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", rel, err)
		}
		defer unix.Close(subS)
		subD, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", rel, err)
		}
		defer unix.Close(subD)
		if err := c.children(subS, subD, rel); err != nil {
			return err
		}
		return finish(subS, subD, &st, rel)
	case unix.S_IFREG:
		in, err := unix.Openat(sfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", rel, err)
		}
		inF := os.NewFile(uintptr(in), rel)
		defer inF.Close()
		out, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fmt.Errorf("create %s: %w", rel, err)
		}
		outF := os.NewFile(uintptr(out), rel)
		defer outF.Close()
		if st.Size > 0 {
			if _, err := io.Copy(outF, inF); err != nil {
				return fmt.Errorf("copy %s: %w", rel, err)
			}
		}
		return finish(in, out, &st, rel)
	case unix.S_IFLNK:
		target, err := readlinkat(sfd, name)
		if err != nil {
			return fmt.Errorf("readlink %s: %w", rel, err)
		}
		if err := unix.Symlinkat(target, dfd, name); err != nil {
			return fmt.Errorf("symlink %s: %w", rel, err)
		}
		if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown %s: %w", rel, err)
		}
		ts := []unix.Timespec{st.Atim, st.Mtim}
		if err := unix.UtimesNanoAt(dfd, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("times %s: %w", rel, err)
		}
		return nil
	case unix.S_IFIFO, unix.S_IFCHR, unix.S_IFBLK, unix.S_IFSOCK:
		if mode == unix.S_IFCHR && st.Rdev == 0 {
			return nil // an overlay whiteout: nothing to copy
		}
		if err := unix.Mknodat(dfd, name, st.Mode, int(st.Rdev)); err != nil {
			return fmt.Errorf("mknod %s: %w", rel, err)
		}
		fd, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", rel, err)
		}
		defer unix.Close(fd)
		if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown %s: %w", rel, err)
		}
		if err := unix.Fchmodat(dfd, name, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod %s: %w", rel, err)
		}
		ts := []unix.Timespec{st.Atim, st.Mtim}
		return unix.UtimesNanoAt(dfd, name, ts, unix.AT_SYMLINK_NOFOLLOW)
	}
	return nil
}

// finish gives the copy at out the owner, mode, xattrs and times of st.
// The owner comes before the mode, as chown clears set-id bits.
func finish(in, out int, st *unix.Stat_t, rel string) error {
	if err := unix.Fchown(out, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", rel, err)
	}
	if err := copyXattrs(in, out); err != nil {
		return fmt.Errorf("xattrs %s: %w", rel, err)
	}
	if err := unix.Fchmod(out, st.Mode&0o7777); err != nil {
		return fmt.Errorf("chmod %s: %w", rel, err)
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(out, "", ts, unix.AT_EMPTY_PATH); err != nil {
		// Older kernels lack AT_EMPTY_PATH for utimensat: use /proc.
		if err2 := unix.UtimesNano(fmt.Sprintf("/proc/self/fd/%d", out), ts); err2 != nil {
			return fmt.Errorf("times %s: %w", rel, err)
		}
	}
	return nil
}

func copyXattrs(in, out int) error {
	size, err := unix.Flistxattr(in, nil)
	if err != nil || size == 0 {
		if errors.Is(err, unix.ENOTSUP) {
			return nil
		}
		return err
	}
	buf := make([]byte, size)
	size, err = unix.Flistxattr(in, buf)
	if err != nil {
		return err
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:size]), "\x00"), "\x00") {
		if name == "" || strings.HasPrefix(name, "trusted.overlay.") {
			continue
		}
		vsize, err := unix.Fgetxattr(in, name, nil)
		if err != nil {
			continue
		}
		val := make([]byte, vsize)
		vsize, err = unix.Fgetxattr(in, name, val)
		if err != nil {
			continue
		}
		if err := unix.Fsetxattr(out, name, val[:vsize], 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EPERM) && !strings.HasPrefix(name, "user.") {
				continue
			}
			return fmt.Errorf("set %s: %w", name, err)
		}
	}
	return nil
}

func readDirNames(fd int) ([]string, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), "dir")
	defer f.Close()
	return f.Readdirnames(-1)
}

func readlinkat(dfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
