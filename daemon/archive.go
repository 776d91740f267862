package daemon

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/go-archive"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/container"
)

// Copying files from and into containers (docker cp). A running container
// is reached through /proc/<init pid>/root: the container's own mount
// namespace, so its tmpfs mounts (and their content) are seen as the
// container sees them, which Docker cannot do. A stopped container's
// filesystem is assembled for the operation in a private mount namespace
// (see containerfs.go). Paths are resolved inside the container's root
// with securejoin, so symlinks never lead out of it.

// ContainerStatPath describes the file at p in the container.
func (d *Daemon) ContainerStatPath(ctx context.Context, name, p string) (*containertypes.PathStat, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	var stat *containertypes.PathStat
	err = d.inContainerFS(c, false, func(root string, _ bool) error {
		resolved, abs, err := resolveIn(root, p)
		if err != nil {
			return err
		}
		stat, err = statIn(root, resolved, abs)
		return err
	})
	if err != nil {
		return nil, archiveError(err, name, p)
	}
	return stat, nil
}

// ContainerArchivePath returns a tar stream of the file or directory at p
// in the container, and its description. The caller closes the stream.
func (d *Daemon) ContainerArchivePath(ctx context.Context, name, p string) (io.ReadCloser, *containertypes.PathStat, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, nil, err
	}
	type handoff struct {
		rc   io.ReadCloser
		stat *containertypes.PathStat
		err  error
	}
	ch := make(chan handoff, 1)
	go func() {
		err := d.inContainerFS(c, false, func(root string, _ bool) error {
			resolved, abs, err := resolveIn(root, p)
			if err != nil {
				return err
			}
			stat, err := statIn(root, resolved, abs)
			if err != nil {
				return err
			}
			dir, base := archive.SplitPathDirEntry(resolved)
			opts := archive.TarResourceRebaseOpts(base, filepath.Base(abs))
			wholeRoot := len(dir) < len(root)
			if wholeRoot {
				// The container's whole root: archive its content, without
				// that of the kernel's filesystems, which the container's
				// image does not hold (and whose files lie about their
				// size).
				dir, opts = root, &archive.TarOptions{ExcludePatterns: []string{"proc/*", "sys/*", "dev/*"}}
			}
			// "/." makes the archiver follow a root that is a symlink
			// (/proc/<pid>/root) instead of archiving the link.
			tb, err := archive.NewTarballer(dir+string(filepath.Separator)+".", opts)
			if err != nil {
				return err
			}
			rc := tb.Reader()
			if wholeRoot {
				rc = absoluteEntries(rc)
			}
			ch <- handoff{rc: rc, stat: stat}
			// Archive here: for a stopped container, the filesystem is only
			// mounted in this goroutine's thread.
			tb.Do()
			return nil
		})
		if err != nil {
			ch <- handoff{err: err}
		}
	}()
	h := <-ch
	if h.err != nil {
		return nil, nil, archiveError(h.err, name, p)
	}
	d.containerEvent(c, eventtypes.ActionArchivePath, map[string]string{"path": p})
	return h.rc, h.stat, nil
}

// ContainerExtractToDir extracts the tar stream content into the directory
// at p in the container. Docker's rules apply (no writing into a read-only
// rootfs or a read-only volume), except that a writable tmpfs of a running
// container takes the files even when its rootfs is read-only.
func (d *Daemon) ContainerExtractToDir(ctx context.Context, name, p string, copyUIDGID, noOverwriteDirNonDir bool, content io.Reader) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	opts := &archive.TarOptions{NoOverwriteDirNonDir: noOverwriteDirNonDir}
	if copyUIDGID {
		c.Lock()
		spec := userSpec(c.Config.User)
		c.Unlock()
		eu, err := imageFS{layers: c.Layers}.execUser(spec)
		if err != nil {
			return err
		}
		opts.ChownOpts = &archive.ChownOpts{UID: eu.Uid, GID: eu.Gid}
	}
	err = d.inContainerFS(c, true, func(root string, live bool) error {
		// The last element is resolved too: extracting to a symlink that
		// points to a directory extracts into that directory.
		resolved, err := securejoin.SecureJoin(root, path.Join("/", p))
		if err != nil {
			return err
		}
		fi, err := os.Lstat(resolved)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return errdefs.ErrInvalidArgument.WithMessage("extraction point is not a directory")
		}
		if err := checkWritable(c, containerPath(root, resolved), live); err != nil {
			return err
		}
		return archive.Untar(content, resolved, opts)
	})
	if err != nil {
		return archiveError(err, name, p)
	}
	d.containerEvent(c, eventtypes.ActionExtractToDir, map[string]string{"path": p})
	return nil
}

// absoluteEntries names the entries of an archive of a whole root as
// Docker does ("/etc/passwd"), which its clients rebase onto the
// destination.
func absoluteEntries(src io.ReadCloser) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		defer src.Close()
		tr := tar.NewReader(src)
		tw := tar.NewWriter(pw)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				pw.CloseWithError(tw.Close())
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			h.Name = "/" + h.Name
			if h.Typeflag == tar.TypeLink {
				h.Linkname = "/" + h.Linkname
			}
			if err := tw.WriteHeader(h); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(tw, tr); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

// resolveIn resolves p inside root, following symlinks in every element
// but the last, as Docker does for reading.
func resolveIn(root, p string) (resolved, abs string, err error) {
	abs = archive.PreserveTrailingDotOrSeparator(filepath.Join("/", p), p)
	dir, base := filepath.Split(abs)
	rdir, err := securejoin.SecureJoin(root, dir)
	if err != nil {
		return "", "", err
	}
	return rdir + string(filepath.Separator) + base, abs, nil
}

// statIn describes the resolved file; a symlink's target is resolved in
// the container's root.
func statIn(root, resolved, abs string) (*containertypes.PathStat, error) {
	fi, err := os.Lstat(resolved)
	if err != nil {
		return nil, err
	}
	var target string
	if fi.Mode()&os.ModeSymlink != 0 {
		full, err := securejoin.SecureJoin(root, abs)
		if err != nil {
			return nil, err
		}
		target = containerPath(root, full)
	}
	return &containertypes.PathStat{
		Name:       filepath.Base(abs),
		Size:       fi.Size(),
		Mode:       fi.Mode(),
		Mtime:      fi.ModTime(),
		LinkTarget: target,
	}, nil
}

// containerPath turns a host path under root back into the container's
// path.
func containerPath(root, host string) string {
	return path.Clean("/" + strings.TrimPrefix(host, root))
}

// checkWritable applies Docker's rules for extracting at p: the mount that
// holds p decides; outside any mount, the rootfs does. A tmpfs only holds
// files while the container runs.
func checkWritable(c *container.Container, p string, running bool) error {
	var holder *container.Mount
	for i := range c.Mounts {
		m := &c.Mounts[i]
		if m.Type == container.MountTmpfs && !running {
			continue
		}
		if p == m.Destination || strings.HasPrefix(p, m.Destination+"/") {
			if holder == nil || len(m.Destination) > len(holder.Destination) {
				holder = m
			}
		}
	}
	switch {
	case holder == nil:
		if c.ReadonlyRootfs() {
			return errdefs.ErrInvalidArgument.WithMessage("container rootfs is marked read-only")
		}
	case holder.ReadOnly && holder.Type == container.MountTmpfs:
		return errdefs.ErrInvalidArgument.WithMessage("mounted tmpfs is marked read-only")
	case holder.ReadOnly:
		return errdefs.ErrInvalidArgument.WithMessage("mounted volume is marked read-only")
	}
	return nil
}

// archiveError gives a missing file Docker's message.
func archiveError(err error, name, p string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("Could not find the file %s in container %s", p, name))
	}
	return err
}
