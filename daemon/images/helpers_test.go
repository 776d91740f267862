package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"gotest.tools/v3/assert"
)

// entry is one member of a test tar.
type entry struct {
	name     string
	typ      byte // tar.TypeReg when 0
	body     string
	linkname string
	mode     int64
	uid, gid int
}

func dir(name string) entry        { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func file(name, body string) entry { return entry{name: name, body: body, mode: 0o644} }
func symlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeSymlink, linkname: target}
}
func hardlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeLink, linkname: target}
}
func owned(e entry, uid, gid int) entry { e.uid, e.gid = uid, gid; return e }

// makeTar builds a tar stream from entries.
func makeTar(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeSymlink {
				mode = 0o777
			}
		}
		hdr := &tar.Header{
			Name: e.name, Typeflag: typ, Linkname: e.linkname, Mode: mode,
			Uid: e.uid, Gid: e.gid, ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX,
		}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		assert.NilError(t, tw.WriteHeader(hdr))
		if typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.body))
			assert.NilError(t, err)
		}
	}
	assert.NilError(t, tw.Close())
	return buf.Bytes()
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	assert.NilError(t, err)
	assert.NilError(t, zw.Close())
	return buf.Bytes()
}

// testImage describes an image for the archive builders.
type testImage struct {
	tags   []string
	layers [][]byte // layer files as stored in the archive (maybe gzipped)
	diffs  []digest.Digest
	config ocispec.Image
	label  string // makes otherwise equal configs distinct
}

// newTestImage builds an image whose layers are the given (uncompressed)
// tars; gz stores them gzipped.
func newTestImage(t *testing.T, tags []string, gz bool, layers ...[]byte) *testImage {
	t.Helper()
	img := &testImage{tags: tags}
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	img.config = ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config: ocispec.ImageConfig{
			Env: []string{"PATH=/bin"},
			Cmd: []string{"sh"},
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}},
	}
	for _, l := range layers {
		img.diffs = append(img.diffs, digest.FromBytes(l))
		if gz {
			l = gzipBytes(t, l)
		}
		img.layers = append(img.layers, l)
	}
	img.config.RootFS.DiffIDs = img.diffs
	return img
}

func (img *testImage) configJSON(t *testing.T) []byte {
	t.Helper()
	c := img.config
	if img.label != "" {
		c.Config.Labels = map[string]string{"test": img.label}
	}
	b, err := json.Marshal(c)
	assert.NilError(t, err)
	return b
}

func (img *testImage) id(t *testing.T) string {
	return digest.FromBytes(img.configJSON(t)).String()
}

// dockerSave builds a classic `docker save` archive.
func dockerSave(t *testing.T, imgs ...*testImage) []byte {
	t.Helper()
	type manifestEntry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var files []entry
	var manifest []manifestEntry
	seen := map[string]bool{}
	for _, img := range imgs {
		cfg := img.configJSON(t)
		cfgName := digest.FromBytes(cfg).Encoded() + ".json"
		m := manifestEntry{Config: cfgName, RepoTags: img.tags}
		if !seen[cfgName] {
			files = append(files, file(cfgName, string(cfg)))
			seen[cfgName] = true
		}
		for _, l := range img.layers {
			name := digest.FromBytes(l).Encoded() + "/layer.tar"
			m.Layers = append(m.Layers, name)
			if !seen[name] {
				files = append(files, dir(digest.FromBytes(l).Encoded()), file(name, string(l)))
				seen[name] = true
			}
		}
		manifest = append(manifest, m)
	}
	mj, err := json.Marshal(manifest)
	assert.NilError(t, err)
	files = append(files, file("manifest.json", string(mj)), file("repositories", "{}"))
	return makeTar(t, files...)
}

// ociParts returns the manifest descriptors and blobs of imgs in an OCI
// layout.
func ociParts(t *testing.T, imgs []*testImage) ([]ocispec.Descriptor, map[digest.Digest][]byte) {
	t.Helper()
	blobs := map[digest.Digest][]byte{}
	var descs []ocispec.Descriptor
	for _, img := range imgs {
		cfg := img.configJSON(t)
		m := ocispec.Manifest{
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: addBlob(blobs, cfg), Size: int64(len(cfg))},
		}
		m.SchemaVersion = 2
		for _, l := range img.layers {
			mt := ocispec.MediaTypeImageLayer
			if bytes.HasPrefix(l, []byte{0x1f, 0x8b}) {
				mt = ocispec.MediaTypeImageLayerGzip
			}
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: mt, Digest: addBlob(blobs, l), Size: int64(len(l))})
		}
		mj, err := json.Marshal(m)
		assert.NilError(t, err)
		descs = append(descs, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: addBlob(blobs, mj), Size: int64(len(mj))})
	}
	return descs, blobs
}

func addBlob(blobs map[digest.Digest][]byte, b []byte) digest.Digest {
	d := digest.FromBytes(b)
	blobs[d] = b
	return d
}

func newIndex(descs []ocispec.Descriptor) ocispec.Index {
	index := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: descs}
	index.SchemaVersion = 2
	return index
}

// ociLayout builds an OCI image layout archive; annotations are put on
// each image's index entry.
func ociLayout(t *testing.T, imgs []*testImage, annotations []map[string]string) []byte {
	t.Helper()
	descs, blobs := ociParts(t, imgs)
	for i := range descs {
		if i < len(annotations) {
			descs[i].Annotations = annotations[i]
		}
	}
	return ociArchive(t, newIndex(descs), blobs)
}

func ociArchive(t *testing.T, index ocispec.Index, blobs map[digest.Digest][]byte) []byte {
	t.Helper()
	ij, err := json.Marshal(index)
	assert.NilError(t, err)
	files := []entry{
		file("oci-layout", `{"imageLayoutVersion":"1.0.0"}`),
		file("index.json", string(ij)),
		dir("blobs"), dir("blobs/sha256"),
	}
	for d, b := range blobs {
		files = append(files, file(fmt.Sprintf("blobs/sha256/%s", d.Encoded()), string(b)))
	}
	return makeTar(t, files...)
}
