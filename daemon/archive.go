package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive/compression"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/chrootarchive"
)

// Copying files from and into containers (docker cp). A running container
// is reached through /proc/<init pid>/root: the container's own mount
// namespace, so its tmpfs mounts (and their content) are seen as the
// container sees them, which Docker cannot do. A stopped container's
// filesystem is assembled for the operation in a private mount namespace
// (see containerfs.go). Every file is read and written by a helper process
// chrooted to the container's root (daemon/chrootarchive), so neither a
// symlink nor a container process racing with the copy leads out of it.

// ContainerStatPath describes the file at p in the container.
func (d *Daemon) ContainerStatPath(ctx context.Context, name, p string) (*containertypes.PathStat, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	var stat *containertypes.PathStat
	err = d.inContainerFS(c, false, func(root *os.File, _ bool) error {
		stat, err = chrootarchive.Stat(ctx, d.self, root, p)
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
	rc, a, err := d.streamArchive(c, func(root *os.File) (*chrootarchive.Archive, error) {
		return chrootarchive.Tar(d.ctx, d.self, root, p)
	})
	if err != nil {
		return nil, nil, archiveError(err, name, p)
	}
	d.containerEvent(c, eventtypes.ActionArchivePath, map[string]string{"path": p})
	return rc, a.Stat, nil
}

// archiveReader ends the helper when its reader is closed early.
// streamArchive streams the archive that open makes of c's filesystem
// (chrooted to its root by the helper). The filesystem of a stopped
// container is mounted only while the stream runs, so the copy happens in
// the goroutine that holds it; the caller gets the reading end, and the
// archive for its description.
func (d *Daemon) streamArchive(c *container.Container, open func(root *os.File) (*chrootarchive.Archive, error)) (io.ReadCloser, *chrootarchive.Archive, error) {
	type handoff struct {
		rc  io.ReadCloser
		a   *chrootarchive.Archive
		err error
	}
	ch := make(chan handoff, 1)
	go func() {
		err := d.inContainerFS(c, false, func(root *os.File, _ bool) error {
			a, err := open(root)
			if err != nil {
				return err
			}
			pr, pw := io.Pipe()
			ch <- handoff{rc: &archiveReader{PipeReader: pr, a: a}, a: a}
			_, err = io.Copy(pw, a)
			if werr := a.Wait(); err == nil {
				err = werr
			}
			pw.CloseWithError(err)
			return nil
		})
		if err != nil {
			ch <- handoff{err: err}
		}
	}()
	h := <-ch
	return h.rc, h.a, h.err
}

type archiveReader struct {
	*io.PipeReader
	a *chrootarchive.Archive
}

func (r *archiveReader) Close() error {
	r.a.Close()
	return r.PipeReader.Close()
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
	opts := chrootarchive.UntarOptions{NoOverwriteDirNonDir: noOverwriteDirNonDir}
	if copyUIDGID {
		c.Lock()
		spec := userSpec(c.Config.User)
		c.Unlock()
		eu, err := imageFS{layers: c.Layers}.execUser(spec)
		if err != nil {
			return err
		}
		opts.Chown = &chrootarchive.IDs{UID: eu.Uid, GID: eu.Gid}
	}
	// Decompressed here, by the daemon: the helper runs nothing of the
	// container's (go-archive may run unpigz).
	plain, err := compression.DecompressStream(content)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("the content is not a valid tar archive: %v", err))
	}
	defer plain.Close()
	// Both sets of rules are taken now: a stopped container stays locked
	// while it is written.
	c.Lock()
	livePlaces, stoppedPlaces := writablePlaces(c, true), writablePlaces(c, false)
	c.Unlock()
	err = d.inContainerFS(c, true, func(root *os.File, live bool) error {
		opts.Places = stoppedPlaces
		if live {
			opts.Places = livePlaces
		}
		return chrootarchive.Untar(ctx, d.self, root, p, opts, plain)
	})
	if err != nil {
		return archiveError(err, name, p)
	}
	d.containerEvent(c, eventtypes.ActionExtractToDir, map[string]string{"path": p})
	return nil
}

// writablePlaces applies Docker's rules for extracting into c: the mount
// that holds the extraction point decides; outside any mount, the rootfs
// does. A tmpfs only holds files while the container runs. The caller
// holds c's lock.
func writablePlaces(c *container.Container, running bool) []chrootarchive.Place {
	places := []chrootarchive.Place{{Dir: "/"}}
	if c.ReadonlyRootfs() {
		places[0].Refusal = "container rootfs is marked read-only"
	}
	for _, m := range c.Mounts {
		pl := chrootarchive.Place{Dir: m.Destination}
		switch {
		case m.Type == container.MountTmpfs && !running:
			continue
		case m.ReadOnly && m.Type == container.MountTmpfs:
			pl.Refusal = "mounted tmpfs is marked read-only"
		case m.ReadOnly:
			pl.Refusal = "mounted volume is marked read-only"
		}
		places = append(places, pl)
	}
	return places
}

// archiveError gives a missing file Docker's message.
func archiveError(err error, name, p string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("Could not find the file %s in container %s", p, name))
	}
	return err
}
