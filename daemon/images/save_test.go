package images

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestSaveLoadKeepsIDs saves images (one gzip-compressed, with a whiteout,
// one committed on top of it) and loads them into another store: the
// layers are rebuilt byte for byte, so the image IDs are the same.
func TestSaveLoadKeepsIDs(t *testing.T) {
	requireRoot(t) // the whiteout is a character device once unpacked
	ctx := context.Background()
	s, _ := newStore(t)
	img := twoLayerImage(t, []string{"test/two:v1"}, true)
	load(t, s, dockerSave(t, img))
	orig, err := s.Get("test/two:v1")
	assert.NilError(t, err)
	// Padding after the trailer: only the recorded framing gives it back.
	layer := append(makeTar(t, dir("data"), file("data/new", "new\n")), make([]byte, 2048)...)
	committed, err := s.Commit(ctx, orig.ID, bytes.NewReader(layer), CommitOptions{Config: ConfigOf(orig), Comment: "c", Ref: "test/committed:v1"})
	assert.NilError(t, err)
	assert.Equal(t, len(committed.Layers), 3)

	var out bytes.Buffer
	assert.NilError(t, s.Save(ctx, []string{"test/two:v1", "test/committed:v1"}, &out))
	s2, _ := newStore(t)
	refs := load(t, s2, out.Bytes())
	assert.DeepEqual(t, refs, []string{"test/two:v1", "test/committed:v1"})
	for ref, want := range map[string]string{"test/two:v1": orig.ID, "test/committed:v1": committed.ID} {
		got, err := s2.Get(ref)
		assert.NilError(t, err)
		assert.Check(t, is.Equal(got.ID, want), ref)
	}
	h := s2.History(mustGet(t, s2, "test/committed:v1"))
	assert.Check(t, is.Equal(h[0].Comment, "c"))
	assert.Check(t, is.Equal(h[0].ID, committed.ID))
}

// TestSaveWithoutRecordRewritesDiffIDs: a layer without its recorded
// framing is archived again, and the config follows the new stream.
func TestSaveWithoutRecordRewritesDiffIDs(t *testing.T) {
	ctx := context.Background()
	s, root := newStore(t)
	// Extra zero blocks: a new archive of the layer cannot match it.
	layer := append(makeTar(t, file("a", "a\n")), make([]byte, 4096)...)
	load(t, s, dockerSave(t, newTestImage(t, []string{"test/one:v1"}, false, layer)))
	orig := mustGet(t, s, "test/one:v1")
	splits, err := filepath.Glob(filepath.Join(root, "layers", "*", tarSplitFile))
	assert.NilError(t, err)
	assert.Equal(t, len(splits), 1)
	assert.NilError(t, os.Remove(splits[0]))
	var out bytes.Buffer
	assert.NilError(t, s.Save(ctx, []string{"test/one:v1"}, &out))
	s2, _ := newStore(t)
	load(t, s2, out.Bytes())
	got := mustGet(t, s2, "test/one:v1")
	assert.Check(t, got.ID != orig.ID)
	assert.DeepEqual(t, got.Config.Config, orig.Config.Config)
}

func mustGet(t *testing.T, s *Store, ref string) *Image {
	t.Helper()
	img, err := s.Get(ref)
	assert.NilError(t, err)
	return img
}

// TestHistoryOfCommit: a commit's history ends with its own entry, on top
// of one entry per parent layer (the test image records no history), and
// names the parent image on the entry below its own.
func TestHistoryOfCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	load(t, s, dockerSave(t, twoLayerImage(t, []string{"test/two:v1"}, false)))
	parent := mustGet(t, s, "test/two:v1")
	layer := makeTar(t, dir("data"), file("data/new", "new\n"))
	img, err := s.Commit(ctx, parent.ID, bytes.NewReader(layer), CommitOptions{Config: ConfigOf(parent), Comment: "c", CreatedBy: "sh -c x"})
	assert.NilError(t, err)
	h := s.History(img)
	assert.Equal(t, len(h), 3)
	assert.Check(t, is.Equal(h[0].ID, img.ID))
	assert.Check(t, is.Equal(h[0].Comment, "c"))
	assert.Check(t, is.Equal(h[0].CreatedBy, "sh -c x"))
	assert.Check(t, is.Equal(h[0].Size, int64(4)))
	assert.Check(t, is.Equal(h[1].ID, parent.ID))
	assert.Check(t, is.DeepEqual(h[1].Tags, []string{"test/two:v1"}))
	assert.Check(t, is.Equal(h[2].ID, "<missing>"))
	assert.Check(t, s.HasChildren(parent.ID))

	// A read-only container's commit adds no layer: an empty-layer entry.
	empty, err := s.Commit(ctx, parent.ID, nil, CommitOptions{Config: ConfigOf(parent), Changes: []string{"ENV A=b"}})
	assert.NilError(t, err)
	assert.DeepEqual(t, empty.Layers, parent.Layers)
	assert.DeepEqual(t, empty.Config.Config.Env, append(parent.Config.Config.Env, "A=b"))
	assert.Equal(t, s.History(empty)[0].Size, int64(0))
}

// TestSaveIsAlsoOCILayout: the archive is an OCI image layout too
// (oci-layout, index.json naming each tag, blobs stored once) whose
// manifest.json points at the blobs; loaded through the layout alone it
// gives the same images and tags.
func TestSaveIsAlsoOCILayout(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	img := twoLayerImage(t, []string{"test/two:v1"}, true)
	load(t, s, dockerSave(t, img))
	assert.NilError(t, s.Tag("test/two:v1", "other/name:v2"))
	orig := mustGet(t, s, "test/two:v1")
	var out bytes.Buffer
	assert.NilError(t, s.Save(ctx, []string{"test/two:v1", "other/name:v2"}, &out))

	files := map[string][]byte{}
	var headers []*tar.Header
	tr := tar.NewReader(bytes.NewReader(out.Bytes()))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		assert.NilError(t, err)
		b, err := io.ReadAll(tr)
		assert.NilError(t, err)
		assert.Check(t, files[h.Name] == nil, "%s written twice", h.Name)
		files[h.Name] = b
		headers = append(headers, h)
	}
	assert.Check(t, is.Equal(string(files["oci-layout"]), `{"imageLayoutVersion":"1.0.0"}`))
	var manifest []dockerManifestEntry
	assert.NilError(t, json.Unmarshal(files["manifest.json"], &manifest))
	assert.Equal(t, len(manifest), 1)
	assert.Check(t, is.DeepEqual(manifest[0].RepoTags, []string{"test/two:v1", "other/name:v2"}))
	assert.Check(t, is.Equal(manifest[0].Config, "blobs/sha256/"+digest.Digest(orig.ID).Encoded()))
	for i, l := range manifest[0].Layers {
		assert.Check(t, is.Equal(l, "blobs/sha256/"+digest.Digest(orig.Layers[i]).Encoded()))
		assert.Check(t, is.Equal(digest.FromBytes(files[l]).String(), orig.Layers[i]))
	}
	var index ocispec.Index
	assert.NilError(t, json.Unmarshal(files["index.json"], &index))
	assert.Equal(t, len(index.Manifests), 2)
	assert.Check(t, is.Equal(index.Manifests[0].Annotations[annotationImageName], "docker.io/test/two:v1"))
	assert.Check(t, is.Equal(index.Manifests[0].Annotations[ocispec.AnnotationRefName], "v1"))
	assert.Check(t, is.Equal(index.Manifests[1].Annotations[annotationImageName], "docker.io/other/name:v2"))
	var m ocispec.Manifest
	mb := files["blobs/sha256/"+index.Manifests[0].Digest.Encoded()]
	assert.Check(t, is.Equal(digest.FromBytes(mb), index.Manifests[0].Digest))
	assert.NilError(t, json.Unmarshal(mb, &m))
	assert.Check(t, is.Equal(m.Config.Digest.String(), orig.ID))
	assert.Check(t, is.Equal(len(m.Layers), 2))
	var repos map[string]map[string]string
	assert.NilError(t, json.Unmarshal(files["repositories"], &repos))
	assert.Check(t, is.Equal(repos["test/two"]["v1"], digest.Digest(orig.Layers[1]).Encoded()))

	// The OCI layout alone loads the same images, tagged.
	var oci bytes.Buffer
	tw := tar.NewWriter(&oci)
	for _, h := range headers {
		if h.Name == "manifest.json" || h.Name == "repositories" {
			continue
		}
		assert.NilError(t, tw.WriteHeader(h))
		_, err := tw.Write(files[h.Name])
		assert.NilError(t, err)
	}
	assert.NilError(t, tw.Close())
	s2, _ := newStore(t)
	refs := load(t, s2, oci.Bytes())
	assert.DeepEqual(t, refs, []string{"test/two:v1", "other/name:v2"})
	assert.Check(t, is.Equal(mustGet(t, s2, "other/name:v2").ID, orig.ID))
}
