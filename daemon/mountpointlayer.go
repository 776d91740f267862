package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/runspec"
)

// A container's mount-point layer (the read-only overlay layer that holds
// the directories and files its mounts need and its image lacks) depends
// only on the image and on the list of mount points. It is built once per
// image and list, under <data-root>/mountpoints/<image>/<key>, and shared
// by every container that has the same: a create of a known image and set
// of mounts then writes no directory or file for it.
//
// Crash safety: a layer is built in a temporary directory and renamed to
// its final name when complete, so a name that exists is a complete layer;
// a temporary one is a build that died with the daemon and restore deletes
// it. A container names its layer in its model, which is written (durably)
// after the rename. Nothing in a layer is ever changed once it is renamed:
// overlayfs never writes to a lower layer. Layers are deleted with their
// image (which cannot go while a container uses it) and, at restore, when
// their image is gone.

// mountpointEntry is one path the layer must provide: a file (for a file
// bind mount) or a directory.
type mountpointEntry struct {
	Path string
	File bool
}

// mountpointEntries lists what a container's layer must provide, in the
// order it is created: the kernel file systems, the network files (and the
// init binary), each mount's destination, the working directory.
// bindIsFile reports whether a bind mount's source is a file.
func mountpointEntries(c *container.Container, bindIsFile func(source string) bool) []mountpointEntry {
	var out []mountpointEntry
	for _, p := range []string{"/proc", "/sys", "/dev"} {
		out = append(out, mountpointEntry{Path: p})
	}
	files := []string{"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}
	if c.Init {
		files = append(files, runspec.InitPath)
	}
	for _, p := range files {
		out = append(out, mountpointEntry{Path: p, File: true})
	}
	for _, m := range c.Mounts {
		out = append(out, mountpointEntry{Path: m.Destination, File: m.Type == container.MountBind && bindIsFile(m.Source)})
	}
	if wd := c.Config.WorkingDir; wd != "" {
		out = append(out, mountpointEntry{Path: wd})
	}
	return out
}

// mountpointKey names the layer of entries: a digest of the list in order
// (the order decides what is created first, hence the result).
func mountpointKey(entries []mountpointEntry) string {
	h := sha256.New()
	for _, e := range entries {
		kind := "d"
		if e.File {
			kind = "f"
		}
		fmt.Fprintf(h, "%s %q\n", kind, e.Path)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func (d *Daemon) mountpointsDir() string { return filepath.Join(d.cfg.DataRoot, "mountpoints") }

func (d *Daemon) imageMountpointsDir(imageID string) string {
	return filepath.Join(d.mountpointsDir(), strings.TrimPrefix(imageID, "sha256:"))
}

const mountpointTmpSuffix = ".tmp"

// mountpointLayer returns the layer for the image and entries, building it
// if it does not exist yet. An entry the image does not allow (a path
// below a file, a dangling symlink) is an errInvalid, and leaves nothing.
func (d *Daemon) mountpointLayer(imageID string, fsys imageFS, entries []mountpointEntry) (string, error) {
	dir := filepath.Join(d.imageMountpointsDir(imageID), mountpointKey(entries))
	if _, err := os.Lstat(dir); err == nil {
		return dir, nil
	}
	d.mountpointMu.Lock()
	defer d.mountpointMu.Unlock()
	if _, err := os.Lstat(dir); err == nil {
		return dir, nil // built by another create meanwhile
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", err
	}
	tmp := dir + mountpointTmpSuffix
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", err
	}
	mp := mountpoints{img: fsys, layer: tmp}
	for _, e := range entries {
		if err := mp.ensure(e.Path, e.File); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("mount point %s: %w", e.Path, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return dir, nil
}

// removeImageMountpoints deletes the mount-point layers of a deleted image.
func (d *Daemon) removeImageMountpoints(imageID string) {
	if err := os.RemoveAll(d.imageMountpointsDir(imageID)); err != nil {
		d.log.Warn("delete the mount-point layers of a deleted image", "image", imageID, "err", err)
	}
}

// reconcileMountpoints deletes, at restore, the layers whose image is gone
// and the builds that died with the daemon.
func (d *Daemon) reconcileMountpoints() {
	images, err := os.ReadDir(d.mountpointsDir())
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.log.Warn("read the mount-point layers", "err", err)
		}
		return
	}
	for _, img := range images {
		dir := filepath.Join(d.mountpointsDir(), img.Name())
		if _, err := d.images.Get("sha256:" + img.Name()); err != nil || len(img.Name()) != 64 {
			d.log.Info("delete the mount-point layers of an image that is gone", "image", img.Name())
			os.RemoveAll(dir)
			continue
		}
		layers, _ := os.ReadDir(dir)
		for _, l := range layers {
			if strings.HasSuffix(l.Name(), mountpointTmpSuffix) {
				os.RemoveAll(filepath.Join(dir, l.Name()))
			}
		}
	}
}
