package copyup

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("copy-up tests need root (owners, device nodes); run the suite as root")
	}
}

func TestDirKeepsEverything(t *testing.T) {
	requireRoot(t)
	src := t.TempDir()
	mtime := time.Date(2020, 2, 3, 4, 5, 6, 7000, time.UTC)
	must := func(err error) { t.Helper(); assert.NilError(t, err) }
	must(os.MkdirAll(filepath.Join(src, "app/sub"), 0o750))
	must(os.WriteFile(filepath.Join(src, "app/config"), []byte("image-config\n"), 0o640))
	must(os.Chown(filepath.Join(src, "app/config"), 1000, 1001))
	must(os.Chown(filepath.Join(src, "app"), 1000, 1000))
	must(unix.Chmod(filepath.Join(src, "app/sub"), 0o2775))
	must(os.Link(filepath.Join(src, "app/config"), filepath.Join(src, "app/hard")))
	must(os.Symlink("/etc/shadow", filepath.Join(src, "app/abs")))
	must(os.Symlink("config", filepath.Join(src, "app/rel")))
	must(unix.Mkfifo(filepath.Join(src, "fifo"), 0o620))
	must(os.WriteFile(filepath.Join(src, "setuid"), []byte("x"), 0o755))
	must(unix.Chmod(filepath.Join(src, "setuid"), 0o4755))
	must(unix.Setxattr(filepath.Join(src, "app/config"), "user.origin", []byte("image"), 0))
	must(os.Chtimes(filepath.Join(src, "app/config"), mtime, mtime))
	must(os.Chtimes(filepath.Join(src, "app"), mtime, mtime))

	dst := t.TempDir()
	assert.NilError(t, unix.Chmod(dst, 0o1777))
	assert.NilError(t, Dir(src, dst))

	st := func(p string) *unix.Stat_t {
		t.Helper()
		var s unix.Stat_t
		assert.NilError(t, unix.Lstat(filepath.Join(dst, p), &s))
		return &s
	}
	data, err := os.ReadFile(filepath.Join(dst, "app/config"))
	assert.NilError(t, err)
	assert.Equal(t, string(data), "image-config\n")
	cfg := st("app/config")
	assert.Equal(t, cfg.Mode&0o7777, uint32(0o640))
	assert.Equal(t, [2]uint32{cfg.Uid, cfg.Gid}, [2]uint32{1000, 1001})
	assert.Equal(t, time.Unix(cfg.Mtim.Unix()).UTC(), mtime)
	assert.Equal(t, st("app/hard").Ino, cfg.Ino, "hardlinks must stay linked")
	app := st("app")
	assert.Equal(t, app.Mode&0o7777, uint32(0o750))
	assert.Equal(t, app.Uid, uint32(1000))
	assert.Equal(t, time.Unix(app.Mtim.Unix()).UTC(), mtime, "directory times are set after its children")
	assert.Equal(t, st("app/sub").Mode&0o7777, uint32(0o2775))
	assert.Equal(t, st("setuid").Mode&0o7777, uint32(0o4755))
	assert.Equal(t, st("fifo").Mode&unix.S_IFMT, uint32(unix.S_IFIFO))
	target, err := os.Readlink(filepath.Join(dst, "app/abs"))
	assert.NilError(t, err)
	assert.Equal(t, target, "/etc/shadow", "symlinks are recreated, not followed")
	target, err = os.Readlink(filepath.Join(dst, "app/rel"))
	assert.NilError(t, err)
	assert.Equal(t, target, "config")
	buf := make([]byte, 16)
	n, err := unix.Getxattr(filepath.Join(dst, "app/config"), "user.origin", buf)
	assert.NilError(t, err)
	assert.Equal(t, string(buf[:n]), "image")
	// the destination root keeps its own mode
	assert.Equal(t, st(".").Mode&0o7777, uint32(0o1777))
}

func TestDirRefusesSymlinkRoot(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	assert.NilError(t, os.Symlink("/etc", filepath.Join(base, "link")))
	err := Dir(filepath.Join(base, "link"), t.TempDir())
	assert.ErrorContains(t, err, "copy-up: open")
}
