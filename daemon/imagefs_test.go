package daemon

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
)

func TestMountpointsRefuseDanglingLink(t *testing.T) {
	t.Parallel()
	img := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(img, "run", "real"), 0o755))
	assert.NilError(t, os.Symlink("../../../../host", filepath.Join(img, "run", "dangling")))
	assert.NilError(t, os.Symlink("real", filepath.Join(img, "run", "good")))
	layer := t.TempDir()
	mp := mountpoints{img: imageFS{layers: []string{img}}, layer: layer}

	for _, p := range []string{"/run/dangling", "/run/dangling/x", "/run/dangling/x/y"} {
		err := mp.ensure(p, false)
		assert.ErrorContains(t, err, "/run/dangling is a symbolic link in the image to a path that does not exist", p)
		assert.Assert(t, errdefs.IsInvalidArgument(err), p)
	}
	_, err := os.Lstat(filepath.Join(layer, "run", "dangling"))
	assert.Assert(t, os.IsNotExist(err), "the link was hidden by a directory in the layer")

	// A link that leads somewhere is followed inside the image.
	assert.NilError(t, mp.ensure("/run/good/x", false))
	st, err := os.Stat(filepath.Join(layer, "run", "real", "x"))
	assert.NilError(t, err)
	assert.Assert(t, st.IsDir())
}

func TestImageFSAttrs(t *testing.T) {
	t.Parallel()
	img := t.TempDir()
	assert.NilError(t, os.Mkdir(filepath.Join(img, "run"), 0o700))
	assert.NilError(t, syscall.Chmod(filepath.Join(img, "run"), 0o1750))
	assert.NilError(t, os.Symlink("run", filepath.Join(img, "lnk")))
	fsys := imageFS{layers: []string{img}}

	a, err := fsys.Attrs("/run", false)
	assert.NilError(t, err)
	assert.Equal(t, a.Type, fs.ModeDir)
	assert.Equal(t, a.Perm, uint32(0o1750))
	assert.Equal(t, a.UID, os.Getuid())

	a, err = fsys.Attrs("/lnk", false)
	assert.NilError(t, err)
	assert.Equal(t, a.Type, fs.ModeSymlink)
	a, err = fsys.Attrs("/lnk", true)
	assert.NilError(t, err)
	assert.Equal(t, a.Type, fs.ModeDir)

	_, err = fsys.Attrs("/missing", true)
	assert.Assert(t, errors.Is(err, fs.ErrNotExist), "%v", err)
}
