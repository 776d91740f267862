package registry

import (
	"testing"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/daemon/images"
)

func TestPushCandidates(t *testing.T) {
	t.Parallel()
	const gz = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	const ociGz = "application/vnd.oci.image.layer.v1.tar+gzip"
	const zstd = "application/vnd.oci.image.layer.v1.tar+zstd"
	d := func(c byte) digest.Digest {
		b := make([]byte, 64)
		for i := range b {
			b[i] = c
		}
		return digest.Digest("sha256:" + string(b))
	}
	src := func(c byte, mt, repo string) images.BlobSource {
		return images.BlobSource{Digest: d(c), Size: 10, MediaType: mt, Repository: repo}
	}
	target, err := reference.ParseNormalizedNamed("127.0.0.1:5000/team/b")
	assert.NilError(t, err)
	tests := []struct {
		name          string
		srcs          []images.BlobSource
		known, mounts []images.BlobSource
	}{
		{name: "nothing known"},
		{
			name:  "in the target repository",
			srcs:  []images.BlobSource{src('a', gz, "127.0.0.1:5000/team/b")},
			known: []images.BlobSource{src('a', gz, "127.0.0.1:5000/team/b")},
		},
		{
			name:   "in another repository of the registry",
			srcs:   []images.BlobSource{src('a', ociGz, "127.0.0.1:5000/team/a")},
			mounts: []images.BlobSource{src('a', ociGz, "127.0.0.1:5000/team/a")},
		},
		{
			name: "another registry or a zstd blob or no size: neither",
			srcs: []images.BlobSource{
				src('a', gz, "127.0.0.1:5001/team/a"),
				src('b', gz, "docker.io/library/busybox"),
				src('c', zstd, "127.0.0.1:5000/team/a"),
				{Digest: d('d'), MediaType: gz, Repository: "127.0.0.1:5000/team/a"},
				src('e', gz, "NOT A NAME"),
			},
		},
		{
			name: "at most three mount sources, newest first",
			srcs: []images.BlobSource{
				src('a', gz, "127.0.0.1:5000/r1"), src('b', gz, "127.0.0.1:5000/r2"),
				src('c', gz, "127.0.0.1:5000/team/b"),
				src('d', gz, "127.0.0.1:5000/r3"), src('e', gz, "127.0.0.1:5000/r4"),
			},
			known:  []images.BlobSource{src('c', gz, "127.0.0.1:5000/team/b")},
			mounts: []images.BlobSource{src('a', gz, "127.0.0.1:5000/r1"), src('b', gz, "127.0.0.1:5000/r2"), src('d', gz, "127.0.0.1:5000/r3")},
		},
	}
	for _, tc := range tests {
		known, mounts := pushCandidates(tc.srcs, target)
		assert.Check(t, is.DeepEqual(known, tc.known), tc.name)
		assert.Check(t, is.DeepEqual(mounts, tc.mounts), tc.name)
	}

	hub, err := reference.ParseNormalizedNamed("busybox")
	assert.NilError(t, err)
	known, mounts := pushCandidates([]images.BlobSource{src('a', gz, "docker.io/library/busybox"), src('b', gz, "docker.io/library/alpine")}, hub)
	assert.Check(t, is.DeepEqual(known, []images.BlobSource{src('a', gz, "docker.io/library/busybox")}))
	assert.Check(t, is.DeepEqual(mounts, []images.BlobSource{src('b', gz, "docker.io/library/alpine")}))
}
