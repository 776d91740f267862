package images

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "image")
	s, err := New(root)
	assert.NilError(t, err)
	return s, root
}

func load(t *testing.T, s *Store, archive []byte) []string {
	t.Helper()
	refs, err := s.Load(context.Background(), bytes.NewReader(archive))
	assert.NilError(t, err)
	return refs
}

// dirEntries lists the names in dir (sorted), empty if it is missing.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	assert.NilError(t, err)
	var names []string
	for _, d := range des {
		names = append(names, d.Name())
	}
	return names
}

func twoLayerImage(t *testing.T, tags []string, gz bool) *testImage {
	base := makeTar(t, dir("bin"), file("bin/hello", "hello\n"), dir("etc"), file("etc/os-release", "ID=test\n"))
	top := makeTar(t, dir("etc"), file("etc/motd", "motd\n"), file(".wh.bin", ""))
	return newTestImage(t, tags, gz, base, top)
}

func TestLoadDockerSave(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			s, root := newStore(t)
			img := twoLayerImage(t, []string{"busybox:latest", "example.com/x/y:1"}, gz)
			refs := load(t, s, dockerSave(t, img))
			assert.Check(t, is.DeepEqual(refs, []string{"busybox:latest", "example.com/x/y:1"}))

			got, err := s.Get("busybox")
			assert.NilError(t, err)
			assert.Check(t, is.Equal(got.ID, img.id(t)))
			assert.Check(t, is.DeepEqual(got.RepoTags, []string{"busybox:latest", "example.com/x/y:1"}))
			assert.Check(t, is.DeepEqual(got.Layers, []string{img.diffs[0].String(), img.diffs[1].String()}))
			assert.Check(t, is.DeepEqual(got.Config.Config.Cmd, []string{"sh"}))
			assert.Check(t, is.Equal(got.Created.Year(), 2024))
			assert.Check(t, is.Equal(got.Size, int64(len("hello\n")+len("ID=test\n")+len("motd\n"))))

			dirs := s.LayerDirs(got)
			assert.Assert(t, is.Len(dirs, 2))
			assert.Check(t, strings.HasPrefix(dirs[0], filepath.Join(root, "layers")))
			// Top first: the top layer has motd, the bottom one bin/hello.
			b, err := os.ReadFile(filepath.Join(dirs[0], "etc/motd"))
			assert.NilError(t, err)
			assert.Check(t, is.Equal(string(b), "motd\n"))
			b, err = os.ReadFile(filepath.Join(dirs[1], "bin/hello"))
			assert.NilError(t, err)
			assert.Check(t, is.Equal(string(b), "hello\n"))

			// Config blob kept, scratch space cleaned.
			_, err = os.Stat(filepath.Join(root, "blobs/sha256", strings.TrimPrefix(got.ID, "sha256:")))
			assert.Check(t, err)
			assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "tmp")), 0))

			// Everything survives a restart.
			s2, err := New(root)
			assert.NilError(t, err)
			again, err := s2.Get("example.com/x/y:1")
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(again.RepoTags, got.RepoTags))
			assert.Check(t, is.Equal(again.Size, got.Size))
			assert.Check(t, is.DeepEqual(s2.LayerDirs(again), dirs))
		})
	}
}

func TestLoadUntaggedReturnsID(t *testing.T) {
	s, _ := newStore(t)
	img := newTestImage(t, nil, false, makeTar(t, file("a", "a")))
	refs := load(t, s, dockerSave(t, img))
	assert.Check(t, is.DeepEqual(refs, []string{img.id(t)}))
	got, err := s.Get(img.id(t))
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(got.RepoTags, []string{}))
}

func TestLoadOCILayout(t *testing.T) {
	s, _ := newStore(t)
	a := twoLayerImage(t, nil, true)
	b := newTestImage(t, nil, false, makeTar(t, file("b", "b")))
	c := newTestImage(t, nil, false, makeTar(t, file("c", "c")))
	archive := ociLayout(t, []*testImage{a, b, c}, []map[string]string{
		{"io.containerd.image.name": "docker.io/library/alpha:3", "org.opencontainers.image.ref.name": "3"},
		{"org.opencontainers.image.ref.name": "localhost:5000/beta:2"},
		{"org.opencontainers.image.ref.name": "latest"}, // a bare tag names no image
	})
	refs := load(t, s, archive)
	assert.Check(t, is.DeepEqual(refs, []string{"alpha:3", "localhost:5000/beta:2", c.id(t)}))
	got, err := s.Get("alpha:3")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(got.ID, a.id(t)))
	assert.Check(t, is.Len(s.LayerDirs(got), 2))
	_, err = os.Stat(filepath.Join(s.LayerDirs(got)[1], "bin/hello"))
	assert.Check(t, err)
	got, err = s.Get("localhost:5000/beta:2")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(got.ID, b.id(t)))
}

func TestLoadOCINestedIndexChoosesPlatform(t *testing.T) {
	s, _ := newStore(t)
	other := newTestImage(t, nil, false, makeTar(t, file("other", "x")))
	other.config.Architecture = "s390x"
	mine := newTestImage(t, nil, false, makeTar(t, file("mine", "y")))
	// Both manifests go in a nested index, named by the top-level entry.
	descs, blobs := ociParts(t, []*testImage{other, mine})
	descs[0].Platform = &ocispec.Platform{Architecture: "s390x", OS: "linux"}
	descs[1].Platform = &ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"}
	nested, err := json.Marshal(newIndex(descs))
	assert.NilError(t, err)
	top := newIndex([]ocispec.Descriptor{{
		MediaType: ocispec.MediaTypeImageIndex, Digest: addBlob(blobs, nested), Size: int64(len(nested)),
		Annotations: map[string]string{"io.containerd.image.name": "docker.io/library/multi:latest"},
	}})
	refs := load(t, s, ociArchive(t, top, blobs))
	assert.Check(t, is.DeepEqual(refs, []string{"multi:latest"}))
	got, err := s.Get("multi")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(got.ID, mine.id(t)))
}

func TestLoadErrors(t *testing.T) {
	good := newTestImage(t, []string{"x:1"}, false, makeTar(t, file("a", "a")))
	badDiff := newTestImage(t, []string{"bad:1"}, false, makeTar(t, file("a", "a")), makeTar(t, file("b", "b")))
	badDiff.config.RootFS.DiffIDs = []digest.Digest{badDiff.diffs[0], digest.FromString("not the layer")}
	windows := newTestImage(t, []string{"win:1"}, false)
	windows.config.OS = "windows"

	tests := []struct {
		name    string
		archive []byte
		err     string
	}{
		{"not a tar", []byte("hello, this is not an archive at all......................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................"), "invalid image archive"},
		{"empty archive", makeTar(t, file("foo", "bar")), "invalid image archive: neither manifest.json nor index.json found"},
		{"diff ID mismatch", dockerSave(t, good, badDiff), "layer diff ID mismatch: image config expects " + digest.FromString("not the layer").String()},
		{"windows image", dockerSave(t, windows), `image operating system "windows" cannot be used on this platform`},
		{"bad tag", func() []byte {
			img := newTestImage(t, []string{"UPPER:case"}, false)
			return dockerSave(t, img)
		}(), "invalid reference format"},
		{"layer count mismatch", func() []byte {
			img := newTestImage(t, nil, false, makeTar(t, file("a", "a")))
			img.config.RootFS.DiffIDs = nil
			return dockerSave(t, img)
		}(), "has 1 layers but its config lists 0 diff IDs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, root := newStore(t)
			_, err := s.Load(context.Background(), bytes.NewReader(tc.archive))
			assert.ErrorContains(t, err, tc.err)
			assert.Check(t, errdefs.IsInvalidArgument(err), "%v", err)
			// Nothing new referenced, nothing left on disk.
			assert.Check(t, is.Len(s.List(), 0))
			assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "layers")), 0))
			assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "images")), 0))
			assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "tmp")), 0))
			_, err = s.Get("x:1")
			assert.Check(t, errdefs.IsNotFound(err))
		})
	}
}

func TestLoadSharesLayers(t *testing.T) {
	s, root := newStore(t)
	base := makeTar(t, file("base", "base"))
	a := newTestImage(t, []string{"a:1"}, false, base, makeTar(t, file("a", "a")))
	b := newTestImage(t, []string{"b:1"}, true, base, makeTar(t, file("b", "b")))
	load(t, s, dockerSave(t, a))
	load(t, s, dockerSave(t, b))
	// base is shared: 3 layer dirs, not 4.
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "layers")), 3))
	ia, _ := s.Get("a:1")
	ib, _ := s.Get("b:1")
	assert.Check(t, is.Equal(s.LayerDirs(ia)[1], s.LayerDirs(ib)[1]))

	// Deleting a keeps the shared layer, removes a's own.
	res, err := s.Delete("a:1", false, nil)
	assert.NilError(t, err)
	chainA := chainOf(ia, 1)
	assert.Check(t, is.DeepEqual(res, []image.DeleteResponse{{Untagged: "a:1"}, {Deleted: ia.ID}, {Deleted: chainA}}))
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "layers")), 2))
	_, err = os.Stat(filepath.Join(s.LayerDirs(ib)[1], "base"))
	assert.Check(t, err)
}

func chainOf(img *Image, i int) string { return img.chainIDs[i] }

func TestGetResolution(t *testing.T) {
	s, _ := newStore(t)
	// Find two configs whose IDs share a first hex digit, and one more.
	var imgs []*testImage
	byFirst := map[byte]*testImage{}
	var twin [2]*testImage
	for i := 0; twin[0] == nil; i++ {
		img := newTestImage(t, nil, false)
		img.label = strings.Repeat("x", i)
		c := strings.TrimPrefix(img.id(t), "sha256:")[0]
		if prev, ok := byFirst[c]; ok {
			twin = [2]*testImage{prev, img}
			break
		}
		byFirst[c] = img
	}
	tagged := newTestImage(t, []string{"busybox:latest", "foo/bar:1", "localhost:5000/x:2"}, false, makeTar(t, file("f", "f")))
	imgs = append(imgs, twin[0], twin[1], tagged)
	load(t, s, dockerSave(t, imgs...))

	id := tagged.id(t)
	hex := strings.TrimPrefix(id, "sha256:")
	shared := hex64(string(strings.TrimPrefix(twin[0].id(t), "sha256:")[0]))[:1]
	tests := []struct {
		in   string
		want string // ID, or "" for not found
	}{
		{"busybox", id},
		{"busybox:latest", id},
		{"library/busybox", id},
		{"docker.io/library/busybox:latest", id},
		{"foo/bar:1", id},
		{"docker.io/foo/bar:1", id},
		{"localhost:5000/x:2", id},
		{id, id},
		{hex, id},
		{hex[:12], id},
		{"sha256:" + hex[:8], id},
		{twin[0].id(t), twin[0].id(t)},
		{shared, ""}, // ambiguous prefix
		{"sha256:" + shared, ""},
		{"busybox:other", ""},
		{"foo/bar", ""},
		{"nothere", ""},
		{"sha256:zz", ""},
		{"busybox@sha256:" + hex64("a"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := s.Get(tc.in)
			if tc.want == "" {
				assert.Check(t, errdefs.IsNotFound(err), "%v", err)
				assert.Check(t, is.ErrorContains(err, "No such image: "))
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.Equal(got.ID, tc.want))
		})
	}
	_, err := s.Get("nothere")
	assert.Error(t, err, "No such image: nothere:latest")
	_, err = s.Get("invalid ref")
	assert.Check(t, errdefs.IsInvalidArgument(err))
	assert.Check(t, is.Error(err, "invalid reference format"))
}

func TestTagAndDelete(t *testing.T) {
	setup := func(t *testing.T) (*Store, string) {
		s, _ := newStore(t)
		img := newTestImage(t, []string{"busybox:latest"}, false, makeTar(t, file("f", "f")))
		load(t, s, dockerSave(t, img))
		return s, img.id(t)
	}
	used := func(id string) func(string) bool { return func(x string) bool { return x == id } }

	t.Run("tag", func(t *testing.T) {
		s, id := setup(t)
		assert.NilError(t, s.Tag("busybox", "mine:v1"))
		assert.NilError(t, s.Tag(id, "docker.io/library/other"))
		got, err := s.Get("mine:v1")
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(got.RepoTags, []string{"busybox:latest", "mine:v1", "other:latest"}))
		assert.Check(t, !s.Inspect(got).Metadata.LastTagTime.IsZero())

		err = s.Tag("nothere", "x:1")
		assert.Check(t, errdefs.IsNotFound(err))
		err = s.Tag("busybox", "Bad:Ref")
		assert.Check(t, errdefs.IsInvalidArgument(err))
	})
	t.Run("untag one of several", func(t *testing.T) {
		s, id := setup(t)
		assert.NilError(t, s.Tag("busybox", "mine:v1"))
		res, err := s.Delete("mine:v1", false, nil)
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(res, []image.DeleteResponse{{Untagged: "mine:v1"}}))
		got, err := s.Get(id)
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(got.RepoTags, []string{"busybox:latest"}))
	})
	t.Run("last tag deletes image", func(t *testing.T) {
		s, id := setup(t)
		img, _ := s.Get(id)
		res, err := s.Delete("busybox", false, nil)
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(res, []image.DeleteResponse{{Untagged: "busybox:latest"}, {Deleted: id}, {Deleted: img.chainIDs[0]}}))
		_, err = s.Get(id)
		assert.Check(t, errdefs.IsNotFound(err))
		assert.Check(t, is.Len(s.List(), 0))
	})
	t.Run("by ID with several tags needs force", func(t *testing.T) {
		s, id := setup(t)
		assert.NilError(t, s.Tag("busybox", "mine:v1"))
		_, err := s.Delete(id[7:19], false, nil)
		assert.Check(t, errdefs.IsConflict(err))
		assert.Check(t, is.Error(err, "conflict: unable to delete "+id[7:19]+" (must be forced) - image is referenced in multiple repositories"))
		res, err := s.Delete(id[7:19], true, nil)
		assert.NilError(t, err)
		assert.Check(t, is.Len(res, 4))
		assert.Check(t, is.DeepEqual(res[:3], []image.DeleteResponse{{Untagged: "busybox:latest"}, {Untagged: "mine:v1"}, {Deleted: id}}))
	})
	t.Run("by ID with one tag", func(t *testing.T) {
		s, id := setup(t)
		res, err := s.Delete(id, false, nil)
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(res[:2], []image.DeleteResponse{{Untagged: "busybox:latest"}, {Deleted: id}}))
	})
	t.Run("in use by ID", func(t *testing.T) {
		s, id := setup(t)
		_, err := s.Delete(id, false, used(id))
		assert.Check(t, errdefs.IsConflict(err))
		assert.Check(t, is.Error(err, "conflict: unable to delete "+id[7:19]+" (must be forced) - image is being used by a container"))
		// Forced: only untagged, the container keeps its image.
		res, err := s.Delete(id, true, used(id))
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(res, []image.DeleteResponse{{Untagged: "busybox:latest"}}))
		got, err := s.Get(id)
		assert.NilError(t, err)
		assert.Check(t, is.Len(got.RepoTags, 0))
		assert.Check(t, is.Len(s.LayerDirs(got), 1))
		_, err = os.Stat(s.LayerDirs(got)[0])
		assert.Check(t, err)
	})
	t.Run("in use by last tag", func(t *testing.T) {
		s, id := setup(t)
		_, err := s.Delete("busybox", false, used(id))
		assert.Check(t, errdefs.IsConflict(err))
		assert.Check(t, is.ErrorContains(err, `conflict: unable to remove repository reference "busybox" (must force) - container is using its referenced image`))
		res, err := s.Delete("busybox", true, used(id))
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(res, []image.DeleteResponse{{Untagged: "busybox:latest"}}))
		_, err = s.Get(id)
		assert.NilError(t, err)
	})
	t.Run("in use with other tags untags freely", func(t *testing.T) {
		s, id := setup(t)
		assert.NilError(t, s.Tag("busybox", "mine:v1"))
		res, err := s.Delete("mine:v1", false, used(id))
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(res, []image.DeleteResponse{{Untagged: "mine:v1"}}))
	})
	t.Run("not found", func(t *testing.T) {
		s, _ := setup(t)
		_, err := s.Delete("nothere", false, nil)
		assert.Check(t, errdefs.IsNotFound(err))
	})
	t.Run("delete persists", func(t *testing.T) {
		s, id := setup(t)
		assert.NilError(t, s.Tag("busybox", "mine:v1"))
		_, err := s.Delete("busybox", false, nil)
		assert.NilError(t, err)
		s2, err := New(s.root)
		assert.NilError(t, err)
		got, err := s2.Get(id)
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(got.RepoTags, []string{"mine:v1"}))
	})
	t.Run("retag moves reference", func(t *testing.T) {
		s, id := setup(t)
		other := newTestImage(t, []string{"busybox:latest"}, false, makeTar(t, file("g", "g")))
		load(t, s, dockerSave(t, other))
		got, err := s.Get("busybox")
		assert.NilError(t, err)
		assert.Check(t, is.Equal(got.ID, other.id(t)))
		old, err := s.Get(id)
		assert.NilError(t, err)
		assert.Check(t, is.Len(old.RepoTags, 0))
	})
}

func TestInspectAndSummary(t *testing.T) {
	s, _ := newStore(t)
	img := newTestImage(t, []string{"busybox:latest"}, false, makeTar(t, file("f", "12345")))
	img.config.Config.Labels = map[string]string{"a": "b"}
	load(t, s, dockerSave(t, img))
	got, err := s.Get("busybox")
	assert.NilError(t, err)

	in := s.Inspect(got)
	assert.Check(t, is.Equal(in.ID, got.ID))
	assert.Check(t, is.DeepEqual(in.RepoTags, []string{"busybox:latest"}))
	assert.Check(t, in.RepoDigests != nil && len(in.RepoDigests) == 0)
	assert.Check(t, is.Equal(in.Created, "2024-05-06T07:08:09Z"))
	assert.Check(t, is.Equal(in.Architecture, "amd64"))
	assert.Check(t, is.Equal(in.Os, "linux"))
	assert.Check(t, is.Equal(in.Size, int64(5)))
	assert.Check(t, is.DeepEqual(in.RootFS, image.RootFS{Type: "layers", Layers: got.Layers}))
	assert.Assert(t, in.Config != nil)
	assert.Check(t, is.DeepEqual(in.Config.Cmd, []string{"sh"}))
	assert.Check(t, is.DeepEqual(in.Config.Labels, map[string]string{"a": "b"}))

	sum := s.Summary(got)
	assert.Check(t, is.Equal(sum.ID, got.ID))
	assert.Check(t, is.Equal(sum.Created, got.Created.Unix()))
	assert.Check(t, is.Equal(sum.Size, int64(5)))
	assert.Check(t, is.Equal(sum.Containers, int64(-1)))
	assert.Check(t, is.DeepEqual(sum.RepoTags, []string{"busybox:latest"}))
	assert.Check(t, is.DeepEqual(sum.Labels, map[string]string{"a": "b"}))
}

func TestGetReturnsCopies(t *testing.T) {
	s, _ := newStore(t)
	load(t, s, dockerSave(t, newTestImage(t, []string{"busybox:latest"}, false)))
	a, err := s.Get("busybox")
	assert.NilError(t, err)
	a.Config.Config.Env[0] = "MUTATED=1"
	a.RepoTags[0] = "mutated"
	b, err := s.Get("busybox")
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(b.Config.Config.Env, []string{"PATH=/bin"}))
	assert.Check(t, is.DeepEqual(b.RepoTags, []string{"busybox:latest"}))
}

func TestListNewestFirst(t *testing.T) {
	s, _ := newStore(t)
	old := newTestImage(t, []string{"old:1"}, false)
	newer := newTestImage(t, []string{"new:1"}, false)
	later := *newer.config.Created
	later = later.AddDate(1, 0, 0)
	newer.config.Created = &later
	load(t, s, dockerSave(t, old, newer))
	var tags []string
	for _, img := range s.List() {
		tags = append(tags, img.RepoTags...)
	}
	assert.Check(t, is.DeepEqual(tags, []string{"new:1", "old:1"}))
}

func TestNewCleansLeftovers(t *testing.T) {
	s, root := newStore(t)
	load(t, s, dockerSave(t, newTestImage(t, []string{"keep:1"}, false, makeTar(t, file("k", "k")))))
	// A crash mid-load leaves scratch files, an uncommitted layer and blob.
	assert.NilError(t, os.MkdirAll(filepath.Join(root, "tmp/load-123/archive"), 0o700))
	assert.NilError(t, os.MkdirAll(filepath.Join(root, "layers", hex64("e"), "diff"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(root, "blobs/sha256", hex64("f")), []byte("{}"), 0o600))

	s2, err := New(root)
	assert.NilError(t, err)
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "tmp")), 0))
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "layers")), 1))
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "blobs/sha256")), 1))
	_, err = s2.Get("keep:1")
	assert.Check(t, err)
}

func TestImport(t *testing.T) {
	s, root := newStore(t)
	rootfs := makeTar(t, dir("bin"), file("bin/tool", "#!/bin/sh\n"), dir("etc"), file("etc/hostname", "x\n"))
	for _, gz := range []bool{false, true} {
		data := rootfs
		if gz {
			data = gzipBytes(t, rootfs)
		}
		img, err := s.Import(context.Background(), bytes.NewReader(data), "imported:v1", "my message",
			[]string{`CMD ["/bin/tool"]`, "ENV A=b C=d", "WORKDIR /srv", "USER 1000", "EXPOSE 80", `VOLUME ["/data"]`, "LABEL k=v"})
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(img.RepoTags, []string{"imported:v1"}))
		assert.Check(t, is.DeepEqual(img.Layers, []string{digest.FromBytes(rootfs).String()}))
		c := img.Config.Config
		assert.Check(t, is.DeepEqual(c.Cmd, []string{"/bin/tool"}))
		assert.Check(t, is.DeepEqual(c.Env, []string{"A=b", "C=d"}))
		assert.Check(t, is.Equal(c.WorkingDir, "/srv"))
		assert.Check(t, is.Equal(c.User, "1000"))
		assert.Check(t, is.Contains(c.ExposedPorts, "80/tcp"))
		assert.Check(t, is.Contains(c.Volumes, "/data"))
		assert.Check(t, is.Equal(c.Labels["k"], "v"))
		assert.Check(t, is.Equal(img.Config.OS, "linux"))
		assert.Check(t, is.Equal(s.Inspect(img).Comment, "my message"))
		assert.Check(t, is.Equal(img.Size, int64(len("#!/bin/sh\n")+len("x\n"))))
		b, err := os.ReadFile(filepath.Join(s.LayerDirs(img)[0], "bin/tool"))
		assert.NilError(t, err)
		assert.Check(t, is.Equal(string(b), "#!/bin/sh\n"))
	}
	// Same content twice: one layer on disk.
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "layers")), 1))

	// No ref: untagged.
	img, err := s.Import(context.Background(), bytes.NewReader(rootfs), "", "", nil)
	assert.NilError(t, err)
	assert.Check(t, is.Len(img.RepoTags, 0))

	// Bad change or ref: rejected before anything is stored.
	before := len(s.List())
	_, err = s.Import(context.Background(), bytes.NewReader(rootfs), "x:1", "", []string{"RUN rm -rf /"})
	assert.Check(t, errdefs.IsInvalidArgument(err))
	assert.Check(t, is.Error(err, "run is not a valid change command"))
	_, err = s.Import(context.Background(), bytes.NewReader(rootfs), "X:1", "", nil)
	assert.Check(t, errdefs.IsInvalidArgument(err))
	assert.Check(t, is.Len(s.List(), before))
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "tmp")), 0))
}

func TestLoadCancelled(t *testing.T) {
	s, root := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Load(ctx, bytes.NewReader(dockerSave(t, newTestImage(t, []string{"a:1"}, false, makeTar(t, file("a", "a"))))))
	assert.Check(t, is.ErrorIs(err, context.Canceled))
	assert.Check(t, is.Len(s.List(), 0))
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "tmp")), 0))
}

func TestLayerDirsTopFirst(t *testing.T) {
	s, root := newStore(t)
	img := &Image{Layers: []string{digest.FromString("a").String(), digest.FromString("b").String()}}
	dirs := s.LayerDirs(img)
	chain := []string{digest.FromString("a").Encoded(), digest.FromString(digest.FromString("a").String() + " " + digest.FromString("b").String()).Encoded()}
	assert.Check(t, is.DeepEqual(dirs, []string{
		filepath.Join(root, "layers", chain[1], "diff"),
		filepath.Join(root, "layers", chain[0], "diff"),
	}))
}

// Docker 25+ `docker save` writes an OCI layout and a manifest.json whose
// paths point into blobs/; manifest.json (with its RepoTags) wins.
func TestLoadDocker25Save(t *testing.T) {
	s, _ := newStore(t)
	img := twoLayerImage(t, nil, false)
	descs, blobs := ociParts(t, []*testImage{img})
	descs[0].Annotations = map[string]string{"io.containerd.image.name": "docker.io/library/fromindex:1"}
	index, err := json.Marshal(newIndex(descs))
	assert.NilError(t, err)
	cfg := digest.FromBytes(img.configJSON(t)).Encoded()
	manifest, err := json.Marshal([]map[string]any{{
		"Config":   "blobs/sha256/" + cfg,
		"RepoTags": []string{"busybox:25"},
		"Layers":   []string{"blobs/sha256/" + img.diffs[0].Encoded(), "blobs/sha256/" + img.diffs[1].Encoded()},
	}})
	assert.NilError(t, err)
	files := []entry{file("oci-layout", `{"imageLayoutVersion":"1.0.0"}`), file("index.json", string(index)), file("manifest.json", string(manifest)), dir("blobs"), dir("blobs/sha256")}
	for d, b := range blobs {
		files = append(files, file("blobs/sha256/"+d.Encoded(), string(b)))
	}
	refs := load(t, s, gzipBytes(t, makeTar(t, files...))) // the whole archive compressed, too
	assert.Check(t, is.DeepEqual(refs, []string{"busybox:25"}))
	got, err := s.Get("busybox:25")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(got.ID, img.id(t)))
}

func TestConcurrentLoadsShareLayers(t *testing.T) {
	s, root := newStore(t)
	base := makeTar(t, file("base", strings.Repeat("b", 4096)))
	const n = 6
	errs := make(chan error, n)
	for i := range n {
		img := newTestImage(t, []string{"img:" + string(rune('a'+i))}, i%2 == 0, base)
		img.label = string(rune('a' + i))
		archive := dockerSave(t, img)
		go func() {
			_, err := s.Load(context.Background(), bytes.NewReader(archive))
			if err == nil {
				_, err = s.Delete("img:a", false, nil) // races with the other loads
				if errdefs.IsNotFound(err) {
					err = nil
				}
			}
			errs <- err
		}()
	}
	for range n {
		assert.Check(t, <-errs)
	}
	assert.Check(t, is.Len(s.List(), n-1))
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root, "layers")), 1))
	for _, img := range s.List() {
		_, err := os.Stat(filepath.Join(s.LayerDirs(img)[0], "base"))
		assert.Check(t, err)
	}
}
