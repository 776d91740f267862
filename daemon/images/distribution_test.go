package images

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestBlobSources(t *testing.T) {
	s, root := newStore(t)
	img := twoLayerImage(t, []string{"a:1"}, false)
	load(t, s, dockerSave(t, img))
	got, err := s.Get("a:1")
	assert.NilError(t, err)
	diffID := got.Layers[0]
	blob := func(n int) digest.Digest { return digest.FromString(fmt.Sprint(n)) }
	src := func(n int, repo string) BlobSource {
		return BlobSource{Digest: blob(n), Size: int64(n), MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", Repository: repo}
	}

	assert.Check(t, is.Len(s.BlobSources(diffID), 0))
	assert.NilError(t, s.AddBlobSource(diffID, src(1, "reg:5000/a")))
	assert.NilError(t, s.AddBlobSource(diffID, src(2, "reg:5000/b")))
	// Seen again: moved first, not repeated.
	assert.NilError(t, s.AddBlobSource(diffID, src(1, "reg:5000/a")))
	want := []BlobSource{src(1, "reg:5000/a"), src(2, "reg:5000/b")}
	assert.Check(t, is.DeepEqual(s.BlobSources(diffID), want))
	assert.Check(t, is.Len(s.BlobSources(got.Layers[1]), 0))

	assert.Check(t, s.AddBlobSource("nonsense", src(1, "reg:5000/a")) != nil)
	assert.Check(t, s.AddBlobSource(diffID, BlobSource{Digest: "sha256:short", Repository: "x"}) != nil)

	// Bounded, newest kept.
	for n := 3; n < 3+maxBlobSources; n++ {
		assert.NilError(t, s.AddBlobSource(diffID, src(n, "reg:5000/c")))
	}
	all := s.BlobSources(diffID)
	assert.Check(t, is.Len(all, maxBlobSources))
	assert.Check(t, is.Equal(all[0].Digest, blob(2+maxBlobSources)))

	// Persisted: a new store reads them; without the layer they go.
	s2, err := New(root)
	assert.NilError(t, err)
	assert.Check(t, is.Len(s2.BlobSources(diffID), maxBlobSources))
	_, err = s2.Delete("a:1", false, nil)
	assert.NilError(t, err)
	s3, err := New(root)
	assert.NilError(t, err)
	assert.Check(t, is.Len(s3.BlobSources(diffID), 0))
	_, err = os.Stat(filepath.Join(root, "distribution", digest.Digest(diffID).Encoded()+".json"))
	assert.Check(t, os.IsNotExist(err), "record of a removed layer kept: %v", err)
}
