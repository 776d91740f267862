package shim

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

func TestCopyIntoVolume(t *testing.T) {
	rootfs := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(rootfs, "data", "sub"), 0o755))
	assert.NilError(t, os.Chmod(filepath.Join(rootfs, "data"), 0o750))
	assert.NilError(t, os.WriteFile(filepath.Join(rootfs, "data", "sub", "f"), []byte("image"), 0o640))
	assert.NilError(t, os.Symlink("sub/f", filepath.Join(rootfs, "data", "link")))
	assert.NilError(t, os.WriteFile(filepath.Join(rootfs, "file"), []byte("x"), 0o644))

	// A new, empty volume gets the content and the directory's mode.
	vol := t.TempDir()
	assert.NilError(t, copyIntoVolume(VolumeCopy{Destination: "/data", Path: vol}, rootfs))
	data, err := os.ReadFile(filepath.Join(vol, "sub", "f"))
	assert.NilError(t, err)
	assert.Equal(t, string(data), "image")
	link, err := os.Readlink(filepath.Join(vol, "link"))
	assert.NilError(t, err)
	assert.Equal(t, link, "sub/f")
	st, err := os.Stat(vol)
	assert.NilError(t, err)
	assert.Equal(t, st.Mode().Perm(), os.FileMode(0o750))

	// A volume with data is left alone.
	used := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(used, "mine"), nil, 0o644))
	assert.NilError(t, copyIntoVolume(VolumeCopy{Destination: "/data", Path: used}, rootfs))
	_, err = os.Stat(filepath.Join(used, "sub"))
	assert.Assert(t, os.IsNotExist(err))

	// Nothing to copy: a missing path, a file, a symlink leaving the rootfs.
	assert.NilError(t, os.Symlink("/etc", filepath.Join(rootfs, "escape")))
	for _, dst := range []string{"/missing", "/file", "/escape"} {
		empty := t.TempDir()
		assert.NilError(t, copyIntoVolume(VolumeCopy{Destination: dst, Path: empty}, rootfs))
		entries, err := os.ReadDir(empty)
		assert.NilError(t, err)
		assert.Equal(t, len(entries), 0, dst)
	}
}
