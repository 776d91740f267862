package images

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
}

func TestWhiteoutsWithOverlay(t *testing.T) {
	requireRoot(t)
	s, _ := newStore(t)
	bottom := makeTar(t,
		dir("a"), file("a/gone", "1"), file("a/kept", "2"),
		dir("d"), file("d/old", "3"),
		owned(file("owned", "x"), 1000, 1001),
	)
	top := makeTar(t,
		dir("a"), file("a/.wh.gone", ""),
		dir("d"), file("d/.wh..wh..opq", ""), file("d/new", "4"),
	)
	load(t, s, dockerSave(t, newTestImage(t, []string{"wh:1"}, false, bottom, top)))
	img, err := s.Get("wh:1")
	assert.NilError(t, err)
	dirs := s.LayerDirs(img)
	assert.Assert(t, is.Len(dirs, 2))

	// On disk: overlay whiteouts, no AUFS files, owners kept.
	var st unix.Stat_t
	assert.NilError(t, unix.Lstat(filepath.Join(dirs[0], "a/gone"), &st))
	assert.Check(t, is.Equal(st.Mode&unix.S_IFMT, uint32(unix.S_IFCHR)))
	assert.Check(t, is.Equal(st.Rdev, uint64(0)))
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(dirs[0], "d"), "trusted.overlay.opaque", buf)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(buf[:n]), "y"))
	for _, name := range []string{"a/.wh.gone", "d/.wh..wh..opq"} {
		_, err := os.Lstat(filepath.Join(dirs[0], name))
		assert.Check(t, os.IsNotExist(err), name)
	}
	assert.NilError(t, unix.Lstat(filepath.Join(dirs[1], "owned"), &st))
	assert.Check(t, is.Equal(st.Uid, uint32(1000)))
	assert.Check(t, is.Equal(st.Gid, uint32(1001)))

	// Stacked by overlayfs the way the daemon does it.
	mnt := t.TempDir()
	err = unix.Mount("overlay", mnt, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(dirs, ":"))
	assert.NilError(t, err)
	defer func() { assert.Check(t, unix.Unmount(mnt, unix.MNT_DETACH)) }()
	for name, want := range map[string]bool{"a/gone": false, "a/kept": true, "d/old": false, "d/new": true, "owned": true} {
		_, err := os.Lstat(filepath.Join(mnt, name))
		assert.Check(t, is.Equal(err == nil, want), "%s: %v", name, err)
	}
}

func TestLayerPathEscape(t *testing.T) {
	requireRoot(t)
	outside := t.TempDir()
	probe := filepath.Join(outside, "evil")
	up := strings.Repeat("../", 30)
	tests := []struct {
		name    string
		layer   []byte
		wantErr bool
	}{
		{"dotdot entry", makeTar(t, file(up+strings.TrimPrefix(probe, "/"), "x")), true},
		{"relative symlink then write through it", makeTar(t, symlink("link", up+strings.TrimPrefix(outside, "/")), file("link/evil", "x")), true},
		{"hardlink outside", makeTar(t, hardlink("hl", up+"etc/passwd")), true},
		// An absolute target is resolved inside the layer, where it is
		// missing: bad input, not a failure of the daemon.
		{"hardlink to an absolute host path", makeTar(t, hardlink("hl", "/etc/passwd")), true},
		// An absolute symlink is resolved inside the layer (chroot
		// semantics): allowed, but the file lands in the layer.
		{"absolute symlink then write through it", makeTar(t, symlink("link", outside), file("link/evil", "x")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, root := newStore(t)
			_, err := s.Load(context.Background(), bytes.NewReader(dockerSave(t, newTestImage(t, []string{"evil:1"}, false, tc.layer))))
			if tc.wantErr {
				assert.Check(t, errdefs.IsInvalidArgument(err), "%v", err)
				assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "layers")), 0))
				assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "tmp")), 0))
			} else {
				assert.NilError(t, err)
			}
			_, err = os.Lstat(probe)
			assert.Check(t, os.IsNotExist(err), "file written outside the layer")
			_, err = os.Stat("/etc/passwd")
			assert.Check(t, err)
		})
	}
}

func TestLoadArchivePathEscape(t *testing.T) {
	s, _ := newStore(t)
	archive := makeTar(t, file("manifest.json", `[{"Config":"../../../../../../etc/hostname","RepoTags":["x:1"],"Layers":[]}]`))
	_, err := s.Load(context.Background(), bytes.NewReader(archive))
	assert.Check(t, errdefs.IsInvalidArgument(err), "%v", err)
	assert.Check(t, is.ErrorContains(err, "invalid image archive: config"))

	// A symlink in the archive cannot point a layer outside of it.
	img := newTestImage(t, []string{"x:1"}, false, makeTar(t, file("a", "a")))
	cfg := img.configJSON(t)
	archive = makeTar(t,
		file("config.json", string(cfg)),
		dir("l"), symlink("l/layer.tar", "../../../../../../../../etc/passwd"),
		file("manifest.json", `[{"Config":"config.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}]`),
	)
	_, err = s.Load(context.Background(), bytes.NewReader(archive))
	assert.Check(t, errdefs.IsInvalidArgument(err), "%v", err)
	assert.Check(t, is.ErrorContains(err, "invalid image archive: layer l/layer.tar"))
	assert.Check(t, is.Len(s.List(), 0))
}

func TestMakeTestImage(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("hack/make-test-image needs /bin/busybox (Debian package busybox-static): %v", err)
	}
	script, err := filepath.Abs("../../hack/make-test-image")
	assert.NilError(t, err)
	out := filepath.Join(t.TempDir(), "busybox.tar")
	cmd := exec.Command(script, out)
	output, err := cmd.CombinedOutput()
	assert.NilError(t, err, string(output))

	s, _ := newStore(t)
	f, err := os.Open(out)
	assert.NilError(t, err)
	defer f.Close()
	refs, err := s.Load(context.Background(), f)
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(refs, []string{"busybox:latest"}))

	img, err := s.Get("busybox")
	assert.NilError(t, err)
	c := img.Config.Config
	assert.Check(t, is.DeepEqual(c.Cmd, []string{"sh"}))
	assert.Check(t, is.DeepEqual(c.Env, []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}))
	assert.Check(t, is.Equal(img.Config.OS, "linux"))
	dirs := s.LayerDirs(img)
	assert.Assert(t, is.Len(dirs, 1))
	rootfs := dirs[0]

	target, err := os.Readlink(filepath.Join(rootfs, "bin/sh"))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(target, "/bin/busybox"))
	for path, want := range map[string]string{
		"run/app/config": "image-config\n",
		"tmp/seed.txt":   "image-tmp\n",
	} {
		b, err := os.ReadFile(filepath.Join(rootfs, path))
		assert.NilError(t, err)
		assert.Check(t, is.Equal(string(b), want))
	}
	target, err = os.Readlink(filepath.Join(rootfs, "run/app/link"))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(target, "config"))
	passwd, err := os.ReadFile(filepath.Join(rootfs, "etc/passwd"))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(passwd), "app:x:1000:1000:app:/home/app:/bin/sh\n"))
	assert.Check(t, is.Contains(string(passwd), "root:x:0:0:root:/root:/bin/sh\n"))

	modes := map[string]os.FileMode{
		"tmp":     os.ModeDir | os.ModeSticky | 0o777,
		"var/tmp": os.ModeDir | os.ModeSticky | 0o777,
		"run":     os.ModeDir | 0o755,
		"run/app": os.ModeDir | 0o750,
	}
	for path, want := range modes {
		fi, err := os.Lstat(filepath.Join(rootfs, path))
		assert.NilError(t, err)
		assert.Check(t, is.Equal(fi.Mode(), want), path)
	}
	if os.Getuid() == 0 {
		var st unix.Stat_t
		assert.NilError(t, unix.Lstat(filepath.Join(rootfs, "run/app"), &st))
		assert.Check(t, is.Equal(st.Uid, uint32(1000)))
		assert.Check(t, is.Equal(st.Gid, uint32(1000)))
		assert.NilError(t, unix.Lstat(filepath.Join(rootfs, "bin/busybox"), &st))
		assert.Check(t, is.Equal(st.Uid, uint32(0)))
	}
}

// Push rebuilds each layer's exact tar stream (whiteouts, links, owners
// included) from the unpacked files and the tar-split record, so the gzip
// blob matches the diffID the config names; the blob is made once.
func TestPushLayersRebuildExactStream(t *testing.T) {
	requireRoot(t)
	s, _ := newStore(t)
	bottom := makeTar(t,
		dir("a"), file("a/gone", "1"), file("a/kept", "2"),
		dir("d"), file("d/old", "3"), symlink("link", "/etc/passwd"),
		owned(file("owned", "x"), 1000, 1001),
	)
	top := makeTar(t,
		dir("a"), file("a/.wh.gone", ""),
		dir("d"), file("d/.wh..wh..opq", ""), file("d/new", "4"), hardlink("d/hard", "d/new"),
	)
	load(t, s, dockerSave(t, newTestImage(t, []string{"push:1"}, true, bottom, top)))
	img, err := s.Get("push:1")
	assert.NilError(t, err)
	layers, release, err := s.PushLayers(context.Background(), img)
	assert.NilError(t, err)
	defer release()
	assert.Assert(t, is.Len(layers, 2))
	for i, want := range [][]byte{bottom, top} {
		f, err := os.Open(layers[i].Path)
		assert.NilError(t, err)
		zr, err := gzip.NewReader(f)
		assert.NilError(t, err)
		got, err := io.ReadAll(zr)
		f.Close()
		assert.NilError(t, err)
		assert.Check(t, bytes.Equal(got, want), "layer %d differs from the loaded one", i)
		assert.Check(t, is.Equal(layers[i].DiffID, digest.FromBytes(want)))
	}
	again, release2, err := s.PushLayers(context.Background(), img)
	assert.NilError(t, err)
	release2()
	assert.Check(t, is.DeepEqual(again, layers))
}
