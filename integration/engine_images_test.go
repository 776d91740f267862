package integration

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/image"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// engRootfsTar is a minimal root file system with an app user (1000) and
// /data (1000:1000 0750) holding seed (0640).
func engRootfsTar(t *testing.T) []byte {
	t.Helper()
	return harness.Tar(t, append(harness.BusyboxRootfs(t),
		harness.TarEntry{Name: "data", Type: tar.TypeDir, Mode: 0o750, UID: 1000, GID: 1000},
		harness.TarEntry{Name: "data/seed", Mode: 0o640, UID: 1000, GID: 1000, Body: "seeded\n"},
		harness.TarEntry{Name: "data/sub", Type: tar.TypeDir, Mode: 0o700, UID: 1000, GID: 1000},
		harness.TarEntry{Name: "data/sub/deep", Mode: 0o600, UID: 1000, GID: 1000, Body: "deep\n"},
	))
}

// engOCIArchive rewrites the docker-save test image as an OCI image layout
// archive named ref, with a label so that it is a different image.
func engOCIArchive(t *testing.T, ref string) []byte {
	t.Helper()
	f, err := os.Open(harness.TestImage(t))
	assert.NilError(t, err)
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		var b bytes.Buffer
		_, err = b.ReadFrom(tr)
		assert.NilError(t, err)
		files[strings.TrimPrefix(h.Name, "./")] = b.Bytes()
	}
	var manifest []struct{ Config string }
	assert.NilError(t, json.Unmarshal(files["manifest.json"], &manifest))
	var layer []byte
	for name, data := range files {
		if strings.HasSuffix(name, "/layer.tar") {
			layer = data
		}
	}
	assert.Assert(t, layer != nil)
	var cfg map[string]any
	assert.NilError(t, json.Unmarshal(files[manifest[0].Config], &cfg))
	cfg["config"].(map[string]any)["Labels"] = map[string]string{"format": "oci"}
	config, err := json.Marshal(cfg)
	assert.NilError(t, err)

	digest := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	desc := func(mt string, b []byte) map[string]any {
		return map[string]any{"mediaType": mt, "digest": "sha256:" + digest(b), "size": len(b)}
	}
	mf, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": desc("application/vnd.oci.image.config.v1+json", config),
		"layers": []any{desc("application/vnd.oci.image.layer.v1.tar", layer)},
	})
	assert.NilError(t, err)
	md := desc("application/vnd.oci.image.manifest.v1+json", mf)
	md["annotations"] = map[string]string{"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": ref[strings.LastIndex(ref, ":")+1:]}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []any{md}})
	assert.NilError(t, err)
	return harness.Tar(t, []harness.TarEntry{
		{Name: "oci-layout", Mode: 0o644, Body: `{"imageLayoutVersion":"1.0.0"}`},
		{Name: "index.json", Mode: 0o644, Body: string(index)},
		{Name: "blobs", Type: tar.TypeDir, Mode: 0o755},
		{Name: "blobs/sha256", Type: tar.TypeDir, Mode: 0o755},
		{Name: "blobs/sha256/" + digest(config), Mode: 0o644, Body: string(config)},
		{Name: "blobs/sha256/" + digest(layer), Mode: 0o644, Body: string(layer)},
		{Name: "blobs/sha256/" + digest(mf), Mode: 0o644, Body: string(mf)},
	})
}

// TestEngineImages: docker-save and OCI archives load, references resolve
// in every spelling, tag and rmi work, an image in use is protected.
func TestEngineImages(t *testing.T) {
	d := harness.NewWithImage(t)
	var img image.InspectResponse
	d.API(t, "GET", "/images/busybox/json", nil).Decode(t, http.StatusOK, &img)
	assert.DeepEqual(t, img.RepoTags, []string{"busybox:latest"})
	assert.Assert(t, strings.HasPrefix(img.ID, "sha256:"), img.ID)
	for _, ref := range []string{"busybox:latest", "docker.io/library/busybox:latest", "library/busybox", "docker.io/library/busybox",
		strings.TrimPrefix(img.ID, "sha256:")[:12], img.ID} {
		var other image.InspectResponse
		d.API(t, "GET", "/images/"+ref+"/json", nil).Decode(t, http.StatusOK, &other)
		assert.Equal(t, other.ID, img.ID, ref)
	}
	d.API(t, "GET", "/images/busybox:other/json", nil).Decode(t, http.StatusNotFound, nil)

	// An OCI layout archive, through the CLI's stdin.
	res := d.BerthIn(t, string(engOCIArchive(t, "docker.io/library/ocibox:v1")), "load")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Assert(t, is.Contains(res.Stdout, "ocibox:v1"))
	assert.Equal(t, d.OK(t, "run", "--rm", "--network", "none", "ocibox:v1", "cat", "/etc/motd"), "Berth test image")
	assert.Equal(t, d.OK(t, "inspect", "--format", "{{.Config.Labels.format}}", "ocibox:v1"), "oci")

	// tag, images, rmi.
	d.OK(t, "tag", "busybox", "registry.example:5000/team/box:1.0")
	d.OK(t, "tag", "busybox", "mybox")
	out := d.OK(t, "images", "--format", "{{.Repository}}:{{.Tag}}")
	for _, want := range []string{"busybox:latest", "mybox:latest", "registry.example:5000/team/box:1.0", "ocibox:v1"} {
		assert.Assert(t, is.Contains(out, want))
	}
	d.API(t, "GET", "/images/json", nil).Decode(t, http.StatusOK, nil)
	r := d.API(t, "POST", "/images/busybox/tag?repo=Bad%20Name&tag=x", nil)
	assert.Equal(t, r.Status, http.StatusBadRequest, "%s", r.Body)
	assert.Equal(t, d.OK(t, "images", "-q", "mybox"), strings.TrimPrefix(img.ID, "sha256:")[:12])

	d.OK(t, "create", "--name", "user", "--network", "none", "mybox", "true")
	res = d.Berth(t, "rmi", "mybox")
	assert.Equal(t, res.ExitCode, 0, "untagging one of several names is fine while in use: %s", res.Combined())
	assert.Assert(t, is.Contains(res.Stdout, "Untagged: mybox:latest"))
	res = d.Berth(t, "rmi", img.ID)
	assert.Assert(t, res.ExitCode != 0, "removing an image a container uses must fail")
	assert.Assert(t, is.Contains(res.Stderr, "is being used by"))
	d.OK(t, "rm", "user")
	res = d.Berth(t, "rmi", "ocibox:v1")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Assert(t, is.Contains(res.Stdout, "Deleted: sha256:"))
	r = d.API(t, "GET", "/images/ocibox:v1/json", nil)
	assert.Equal(t, r.Status, http.StatusNotFound)
	assert.Equal(t, r.Message(), "No such image: ocibox:v1")
	res = d.Berth(t, "rmi", "ocibox:v1")
	assert.Equal(t, res.ExitCode, 1, res.Combined())
	assert.Assert(t, is.Contains(res.Stderr, "No such image"))

	// A broken archive is a 400 and loads nothing.
	r = d.API(t, "POST", "/images/load", bytes.NewReader([]byte("not a tar")))
	assert.Assert(t, r.Status == http.StatusBadRequest || strings.Contains(string(r.Body), "error"), "%d %s", r.Status, r.Body)
	res = d.BerthIn(t, "garbage", "load")
	assert.Assert(t, res.ExitCode != 0, res.Combined())
}

// TestEngineImageImport: a rootfs tar becomes an image; --change sets CMD,
// ENTRYPOINT, ENV, USER, WORKDIR, VOLUME and LABEL, and containers see them.
func TestEngineImageImport(t *testing.T) {
	d := harness.New(t) // no test image: the import is the only one
	rootfs := engRootfsTar(t)
	res := d.BerthIn(t, string(rootfs), "import",
		"--change", `ENTRYPOINT ["sh", "-c"]`,
		"--change", `CMD ["echo $GREETING from $(pwd) as $(id -un)"]`,
		"--change", "ENV GREETING=hello OTHER=x",
		"--change", "USER app",
		"--change", "WORKDIR /data",
		"--change", "LABEL origin=import",
		"-", "imported:v1")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Assert(t, strings.HasPrefix(strings.TrimSpace(res.Stdout), "sha256:"), res.Stdout)

	assert.Equal(t, d.OK(t, "run", "--rm", "--network", "none", "imported:v1"), "hello from /data as app")
	assert.Equal(t, d.OK(t, "run", "--rm", "--network", "none", "-e", "GREETING=hi", "-u", "0", "-w", "/", "imported:v1"), "hi from / as root")
	assert.Equal(t, d.OK(t, "run", "--rm", "--network", "none", "--entrypoint", "cat", "imported:v1", "seed"), "seeded")
	assert.Equal(t, d.OK(t, "inspect", "--format", "{{.Config.User}} {{.Config.WorkingDir}} {{.Config.Labels.origin}}", "imported:v1"), "app /data import")

	// The API form, with the changes as query parameters.
	q := url.Values{"fromSrc": {"-"}, "repo": {"imported"}, "tag": {"v2"},
		"changes": {`CMD ["cat", "/data/seed"]`, "VOLUME /data", "USER 1000"}}
	r := d.API(t, "POST", "/images/create?"+q.Encode(), bytes.NewReader(rootfs))
	assert.Equal(t, r.Status, http.StatusOK, "%s", r.Body)
	assert.Assert(t, !strings.Contains(string(r.Body), `"error"`), "%s", r.Body)
	var img image.InspectResponse
	d.API(t, "GET", "/images/imported:v2/json", nil).Decode(t, http.StatusOK, &img)
	assert.DeepEqual(t, img.Config.Cmd, []string{"cat", "/data/seed"})
	_, hasVolume := img.Config.Volumes["/data"]
	assert.Assert(t, hasVolume, "VOLUME: %v", img.Config.Volumes)
	assert.Equal(t, d.OK(t, "run", "--rm", "--network", "none", "imported:v2"), "seeded")

	r = d.API(t, "POST", "/images/create?fromSrc=-&repo=bad&changes="+url.QueryEscape("FROBNICATE x"), bytes.NewReader(rootfs))
	assert.Assert(t, r.Status == http.StatusBadRequest || strings.Contains(string(r.Body), `"error"`), "unknown change: %d %s", r.Status, r.Body)
	res = d.BerthIn(t, string(rootfs), "import", "--change", "FROM scratch", "-", "bad:v1")
	assert.Assert(t, res.ExitCode != 0, res.Combined())
	d.API(t, "GET", "/images/bad:v1/json", nil).Decode(t, http.StatusNotFound, nil)
}
