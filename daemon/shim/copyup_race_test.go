package shim

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestCopyUpFromStaysInRoot: image content whose symlinks point out of
// the rootfs copies nothing from outside it.
func TestCopyUpFromStaysInRoot(t *testing.T) {
	t.Parallel()
	host := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(host, "secret"), []byte("host"), 0o644))
	root := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(root, "etc", "app"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(root, "etc", "app", "conf"), []byte("image"), 0o644))
	assert.NilError(t, os.Symlink(host, filepath.Join(root, "abs")))
	assert.NilError(t, os.Symlink("../../../../../../.."+host, filepath.Join(root, "rel")))
	assert.NilError(t, os.Symlink("/etc/app", filepath.Join(root, "applink")))
	assert.NilError(t, os.WriteFile(filepath.Join(root, "file"), []byte("f"), 0o644))

	for _, tc := range []struct {
		rel  string
		want []string
	}{
		{"/abs", nil},
		{"/rel", nil},
		{"/file", nil},
		{"/missing/dir", nil},
		{"/applink", []string{"conf"}}, // resolved inside the rootfs
		{"/../../etc/app", []string{"conf"}},
	} {
		dst := t.TempDir()
		assert.NilError(t, copyUpFrom(root, tc.rel, dst), tc.rel)
		entries, err := os.ReadDir(dst)
		assert.NilError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		assert.Check(t, is.DeepEqual(names, tc.want), tc.rel)
	}
}

// TestCopyUpFromRace: while the copy runs, a directory of the source path
// is exchanged with a symlink to a host directory. The copy never holds
// the host's file.
func TestCopyUpFromRace(t *testing.T) {
	t.Parallel()
	host := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(host, "sub"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(host, "sub", "secret"), []byte("host"), 0o644))
	root := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(root, "a", "sub"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(root, "a", "sub", "inside"), []byte("image"), 0o644))
	assert.NilError(t, os.Symlink(host, filepath.Join(root, "l")))

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a, l := filepath.Join(root, "a"), filepath.Join(root, "l")
		for !stop.Load() {
			_ = unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, l, unix.RENAME_EXCHANGE)
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()

	copied := 0
	for i := 0; i < 2000; i++ {
		dst := t.TempDir()
		if err := copyUpFrom(root, "/a/sub", dst); err != nil {
			continue // the path may be half-swapped: an error, never the host
		}
		_, err := os.Lstat(filepath.Join(dst, "secret"))
		assert.Assert(t, os.IsNotExist(err), "attempt %d copied the host's file", i)
		if _, err := os.Lstat(filepath.Join(dst, "inside")); err == nil {
			copied++
		}
	}
	t.Logf("2000 attempts, %d copies of the image's directory", copied)
}
