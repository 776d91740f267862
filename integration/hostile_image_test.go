package integration

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// saveArchive is a docker-save archive of one image named ref whose
// layers are the given tar streams, bottom first.
func saveArchive(t *testing.T, ref string, layers ...[]byte) []byte {
	t.Helper()
	var diffIDs, paths []string
	entries := []harness.TarEntry{}
	for i, l := range layers {
		sum := sha256.Sum256(l)
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(sum[:]))
		p := fmt.Sprintf("l%d/layer.tar", i)
		paths = append(paths, p)
		entries = append(entries, harness.TarEntry{Name: fmt.Sprintf("l%d", i), Type: tar.TypeDir, Mode: 0o755},
			harness.TarEntry{Name: p, Body: string(l), Mode: 0o644})
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	assert.NilError(t, err)
	sum := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(sum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{ref}, "Layers": paths}})
	assert.NilError(t, err)
	entries = append(entries,
		harness.TarEntry{Name: cfgName, Body: string(cfg), Mode: 0o644},
		harness.TarEntry{Name: "manifest.json", Body: string(manifest), Mode: 0o644})
	return harness.Tar(t, entries)
}

// writeTemp writes data to a new temporary file and returns its path.
func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "archive.tar")
	assert.NilError(t, os.WriteFile(p, data, 0o600))
	return p
}

// rawTar is a tar stream of headers written as given: names are not
// cleaned, so "../" and absolute names reach the daemon.
func rawTar(t *testing.T, hdrs ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "planted by a hostile layer"
			h.Size = int64(len(body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		assert.NilError(t, tw.WriteHeader(&h))
		_, err := tw.Write([]byte(body))
		assert.NilError(t, err)
	}
	assert.NilError(t, tw.Close())
	return buf.Bytes()
}

// TestHostileImageArchives loads image archives built to escape the layer
// store: "../" and absolute entries, a symlink and then a file through
// it, hardlinks to host paths, whiteouts through a symlink, and a layer
// that turns /etc into a symlink to the host's "/" followed by a layer
// that writes through it. Each is refused at load with a 400 and leaves
// no image, or is contained in its layer; containers of the contained
// ones run, and their tmpfs copy-up and cp stay inside. A canary
// directory on the host proves that nothing was read, written or removed
// outside.
func TestHostileImageArchives(t *testing.T) {
	d := harness.NewWithImage(t)
	canary := newHostileCanary(t)
	up := strings.Repeat("../", 20)
	inCanary := strings.TrimPrefix(canary.dir, "/")
	base := harness.Tar(t, harness.BusyboxRootfs(t))
	before := d.Snapshot(t)
	imagesBefore := d.OK(t, "images", "-q")

	refused := []struct {
		name  string
		layer []byte
		want  string
	}{
		{"dotdot entry", rawTar(t, tar.Header{Name: up + inCanary + "/evil", Typeflag: tar.TypeReg}), "invalid layer"},
		{"symlink then file through it", rawTar(t,
			tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: up + inCanary},
			tar.Header{Name: "esc/evil", Typeflag: tar.TypeReg}), "invalid layer"},
		{"hardlink to a host file", rawTar(t, tar.Header{Name: "hl", Typeflag: tar.TypeLink, Linkname: up + inCanary + "/secret.txt"}), "invalid layer"},
		{"hardlink to an absolute host path", rawTar(t, tar.Header{Name: "hl", Typeflag: tar.TypeLink, Linkname: canary.dir + "/secret.txt"}), "invalid layer"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			res := d.BerthIn(t, string(saveArchive(t, "hostile:refused", base, tc.layer)), "load")
			assert.Check(t, res.ExitCode != 0, "loaded: %s", res.Combined())
			assert.Check(t, is.Contains(res.Stderr, tc.want))
			assert.Check(t, is.Equal(d.OK(t, "images", "-q"), imagesBefore), "a refused archive left an image")
			canary.check(t)
		})
	}

	// Contained: the names resolve inside the layer (chroot semantics).
	contained := saveArchive(t, "hostile:contained", base,
		rawTar(t,
			tar.Header{Name: "/" + inCanary + "/abs-evil", Typeflag: tar.TypeReg},
			tar.Header{Name: "abslink", Typeflag: tar.TypeSymlink, Linkname: canary.dir},
			tar.Header{Name: "abslink/through-abs", Typeflag: tar.TypeReg},
			tar.Header{Name: "tohost", Typeflag: tar.TypeSymlink, Linkname: canary.dir},
		),
		// A whiteout of "secret" through the symlink must not reach the host.
		rawTar(t, tar.Header{Name: "tohost/.wh.secret.txt", Typeflag: tar.TypeReg}),
		// /etc becomes a symlink to the host's "/" (in the container, its own).
		rawTar(t,
			tar.Header{Name: ".wh.etc", Typeflag: tar.TypeReg},
			tar.Header{Name: "etc", Typeflag: tar.TypeSymlink, Linkname: "/"},
		),
	)
	res := d.BerthIn(t, string(contained), "load")
	assert.Equal(t, res.ExitCode, 0, "the contained archive: %s", res.Combined())
	// Loaded: every file stayed in its layer. A container of the
	// image sees them inside, and nothing of the host.
	out := d.OK(t, "run", "--rm", "--network", "none", "hostile:contained", "sh", "-c",
		"ls /"+inCanary+"/ /abslink/ 2>&1; cat /tohost/secret 2>&1; ls /etc/ 2>&1; true")
	assert.Check(t, !strings.Contains(out, canary.secret), "the container read the host's secret: %s", out)
	// A tmpfs on the symlinked /etc is refused; one on the symlink to
	// the host too; cp through them stays inside.
	d.Fails(t, 125, []string{"tmpfs destination /etc is a symbolic link in the image"},
		"create", "--network", "none", "--tmpfs", "/etc", "hostile:contained", "true")
	d.Fails(t, 125, []string{"is a symbolic link in the image"},
		"create", "--network", "none", "--tmpfs", "/abslink", "hostile:contained", "true")
	// The whiteout's layer made /tohost a directory of the image (the
	// upper directory wins over the lower symlink): its copy-up holds
	// the image's content, none of the host's.
	out = d.OK(t, "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tohost", "hostile:contained", "ls", "-A", "/tohost")
	assert.Check(t, !strings.Contains(out, "secret"), "copy-up reached the host: %s", out)
	// A read-only container cannot write through the symlinked /etc.
	d.Fails(t, 1, []string{"Read-only file system"}, "run", "--rm", "--network", "none", "--read-only",
		"hostile:contained", "touch", "/etc/berth-planted")
	id := d.OK(t, "create", "--network", "none", "hostile:contained", "true")
	src := filepath.Join(t.TempDir(), "cp-evil")
	assert.NilError(t, os.WriteFile(src, []byte("x"), 0o644))
	d.OK(t, "cp", src, id+":/tohost/")
	d.OK(t, "cp", src, id+":/etc/")
	got := d.Berth(t, "cp", id+":/tohost/secret.txt", filepath.Join(t.TempDir(), "stolen"))
	assert.Check(t, got.ExitCode != 0, "cp read the host's secret: %s", got.Combined())
	d.OK(t, "rm", id)
	d.OK(t, "rmi", "hostile:contained")
	canary.check(t)

	// A layer that writes etc/berth-planted above the symlinked /etc makes
	// /etc a directory of the image (overlayfs: the upper directory wins),
	// never a path on the host.
	through := saveArchive(t, "hostile:through", base,
		rawTar(t, tar.Header{Name: ".wh.etc", Typeflag: tar.TypeReg}, tar.Header{Name: "etc", Typeflag: tar.TypeSymlink, Linkname: "/"}),
		rawTar(t, tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, tar.Header{Name: "etc/berth-planted", Typeflag: tar.TypeReg}))
	d.OK(t, "load", "-i", writeTemp(t, through))
	out = d.OK(t, "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/etc", "hostile:through", "ls", "/etc")
	assert.Check(t, is.Contains(out, "berth-planted"), "the copy-up of /etc lost the layer's file: %s", out)
	d.OK(t, "rmi", "hostile:through")
	_, err := os.Lstat("/berth-planted")
	assert.Check(t, os.IsNotExist(err), "a layer wrote /berth-planted on the host")
	_, err = os.Lstat("/cp-evil")
	assert.Check(t, os.IsNotExist(err), "cp wrote /cp-evil on the host")
	assert.Check(t, is.Equal(d.OK(t, "images", "-q"), imagesBefore))
	d.AssertUnchanged(t, before, "after the hostile archives")
}
