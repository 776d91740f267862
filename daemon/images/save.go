package images

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/moby/go-archive"
	"github.com/moby/moby/api/types/image"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Save writes the images names resolve to as `docker save` 25+ does: one
// tar that is both a classic docker-archive (manifest.json, repositories)
// and an OCI image layout (oci-layout, index.json, blobs/sha256/), with
// every blob (uncompressed layer tars, configs, OCI manifests) stored once
// under blobs/sha256/ and manifest.json pointing at them. Load, `docker
// load` and OCI tools (skopeo's oci-archive:) read it back.
//
// The store keeps layers unpacked, with the framing of their original tar
// streams (tar-split records): each layer is rebuilt byte for byte, and the
// image loads back under the same ID. A layer without a usable record
// (unpacked by an older Berth) is archived again: the saved config then
// lists the new diff IDs and the image loads back under a new ID, with the
// same content, configuration and tags.
func (s *Store) Save(ctx context.Context, names []string, w io.Writer) error {
	type saved struct {
		img  *Image
		refs []string // normalized
	}
	var imgs []saved
	byID := map[string]int{}
	for _, n := range names {
		s.mu.RLock()
		img, ref, err := s.resolve(n)
		var c *Image
		if err == nil {
			c = s.clone(img)
		}
		s.mu.RUnlock()
		if err != nil {
			return err
		}
		i, ok := byID[c.ID]
		if !ok {
			i = len(imgs)
			byID[c.ID] = i
			imgs = append(imgs, saved{img: c})
		}
		// As Docker: an image named by ID is saved without tags.
		if ref != "" && !slices.Contains(imgs[i].refs, ref) {
			imgs[i].refs = append(imgs[i].refs, ref)
		}
	}
	work, err := os.MkdirTemp(s.tmpDir(), "save-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	tw := tar.NewWriter(w)
	for _, d := range []string{"blobs", "blobs/sha256"} {
		if err := writeTarDir(tw, d); err != nil {
			return err
		}
	}
	written := map[digest.Digest]bool{}
	writeBlob := func(b []byte) (ocispec.Descriptor, error) {
		d := digest.FromBytes(b)
		if !written[d] {
			written[d] = true
			if err := writeTarBytes(tw, savedBlobPath(d), b); err != nil {
				return ocispec.Descriptor{}, err
			}
		}
		return ocispec.Descriptor{Digest: d, Size: int64(len(b))}, nil
	}
	manifest := []dockerManifestEntry{}
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	repositories := map[string]map[string]string{}
	for _, sv := range imgs {
		dirs := s.LayerDirs(sv.img)
		slices.Reverse(dirs) // bottom first
		var diffIDs []digest.Digest
		var layerDescs []ocispec.Descriptor
		var layerPaths []string
		for _, dir := range dirs {
			if err := ctx.Err(); err != nil {
				return err
			}
			f, err := os.CreateTemp(work, "layer-")
			if err != nil {
				return err
			}
			var want digest.Digest
			if i := len(diffIDs); i < len(sv.img.Layers) {
				want = digest.Digest(sv.img.Layers[i])
			}
			d, err := archiveLayer(ctx, dir, want, f)
			if err == nil {
				err = writeLayerBlob(tw, d, f, written)
			}
			var size int64
			if st, serr := f.Stat(); serr == nil {
				size = st.Size()
			}
			f.Close()
			if err != nil {
				return fmt.Errorf("archiving layer %s: %w", dir, err)
			}
			diffIDs = append(diffIDs, d)
			layerPaths = append(layerPaths, savedBlobPath(d))
			layerDescs = append(layerDescs, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: size})
		}
		raw, err := os.ReadFile(s.blobPath(sv.img.ID))
		if err != nil {
			return fmt.Errorf("reading the config of %s: %w", sv.img.ID, err)
		}
		if !slices.Equal(diffIDs, sv.img.Config.RootFS.DiffIDs) {
			if raw, err = withDiffIDs(raw, diffIDs); err != nil {
				return err
			}
		}
		cfgDesc, err := writeBlob(raw)
		if err != nil {
			return err
		}
		cfgDesc.MediaType = ocispec.MediaTypeImageConfig
		m, err := json.Marshal(ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    cfgDesc,
			Layers:    nonNilDescs(layerDescs),
		})
		if err != nil {
			return err
		}
		mDesc, err := writeBlob(m)
		if err != nil {
			return err
		}
		mDesc.MediaType = ocispec.MediaTypeImageManifest
		var tags []string
		for _, ref := range sv.refs {
			tags = append(tags, FamiliarName(ref))
			e := mDesc
			e.Annotations = map[string]string{annotationImageName: ref}
			if name, tag, ok := splitTag(ref); ok {
				e.Annotations[ocispec.AnnotationRefName] = tag
				if len(layerPaths) > 0 {
					repo := FamiliarName(name)
					if repositories[repo] == nil {
						repositories[repo] = map[string]string{}
					}
					repositories[repo][tag] = diffIDs[len(diffIDs)-1].Encoded()
				}
			}
			index.Manifests = append(index.Manifests, e)
		}
		if len(sv.refs) == 0 {
			index.Manifests = append(index.Manifests, mDesc)
		}
		manifest = append(manifest, dockerManifestEntry{Config: savedBlobPath(cfgDesc.Digest), RepoTags: nonNil(tags), Layers: nonNil(layerPaths)})
	}
	// In Docker's order, after the blobs.
	files := []struct {
		name string
		v    any
	}{
		{"index.json", index},
		{"manifest.json", manifest},
		{ocispec.ImageLayoutFile, ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}},
	}
	if len(repositories) > 0 {
		files = append(files, struct {
			name string
			v    any
		}{"repositories", repositories})
	}
	for _, f := range files {
		data, err := json.Marshal(f.v)
		if err != nil {
			return err
		}
		if err := writeTarBytes(tw, f.name, data); err != nil {
			return err
		}
	}
	return tw.Close()
}

func savedBlobPath(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

// writeLayerBlob writes the layer tar in f as blob d, once.
func writeLayerBlob(tw *tar.Writer, d digest.Digest, f *os.File, written map[digest.Digest]bool) error {
	if written[d] {
		return nil
	}
	written[d] = true
	return writeTarFile(tw, savedBlobPath(d), f)
}

// splitTag splits a normalized "name:tag" reference.
func splitTag(ref string) (name, tag string, ok bool) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return "", "", false
	}
	return ref[:i], ref[i+1:], true
}

func nonNilDescs(d []ocispec.Descriptor) []ocispec.Descriptor {
	if d == nil {
		return []ocispec.Descriptor{}
	}
	return d
}

// archiveLayer writes the tar stream of the unpacked layer dir to f and
// returns its digest: the original stream, rebuilt from the layer's
// recorded framing, when that gives the digest want; else a new archive
// of the directory.
func archiveLayer(ctx context.Context, dir string, want digest.Digest, f *os.File) (digest.Digest, error) {
	if want != "" {
		if d, err := writeDigested(f, func(w io.Writer) error { return replayLayer(filepath.Dir(dir), w) }); err == nil && d == want {
			return d, nil
		}
		if err := resetFile(f); err != nil {
			return "", err
		}
	}
	return writeDigested(f, func(w io.Writer) error {
		rc, err := archive.TarWithOptions(dir, &archive.TarOptions{WhiteoutFormat: archive.OverlayWhiteoutFormat})
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(w, ctxReader{ctx, rc})
		return err
	})
}

// replayLayer writes the original tar stream of the layer in layerDir,
// rebuilt from its tar-split record (layerStream).
func replayLayer(layerDir string, w io.Writer) error {
	stream, err := layerStream(layerDir)
	if err != nil {
		return err
	}
	defer stream.Close()
	_, err = io.Copy(w, stream)
	return err
}

func writeDigested(f *os.File, write func(io.Writer) error) (digest.Digest, error) {
	h := sha256.New()
	if err := write(io.MultiWriter(f, h)); err != nil {
		return "", err
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), nil
}

func resetFile(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

// withDiffIDs replaces the diff IDs of a config blob, keeping every other
// field as it was.
func withDiffIDs(raw []byte, diffIDs []digest.Digest) ([]byte, error) {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	var rootfs map[string]json.RawMessage
	if err := json.Unmarshal(cfg["rootfs"], &rootfs); err != nil {
		return nil, err
	}
	ids, err := json.Marshal(diffIDs)
	if err != nil {
		return nil, err
	}
	rootfs["diff_ids"] = ids
	if cfg["rootfs"], err = json.Marshal(rootfs); err != nil {
		return nil, err
	}
	return json.Marshal(cfg)
}

var epoch = time.Unix(0, 0)

func writeTarDir(tw *tar.Writer, name string) error {
	return tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch})
}

func writeTarBytes(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func writeTarFile(tw *tar.Writer, name string, f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: st.Size(), ModTime: epoch}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// History returns the history of img, newest first, as GET
// /images/{name}/history answers: the top entry carries the image's ID
// and tags, the next ones those of its parents while they exist, the
// others "<missing>"; an entry that made a layer carries its size.
func (s *Store) History(img *Image) []image.HistoryResponseItem {
	s.mu.RLock()
	sizes := make([]int64, len(img.chainIDs))
	for i, c := range img.chainIDs {
		sizes[i] = s.layers[c].Size
	}
	s.mu.RUnlock()
	var out []image.HistoryResponseItem
	layer := 0
	hist := img.Config.History
	withLayer := 0
	for _, h := range hist {
		if !h.EmptyLayer {
			withLayer++
		}
	}
	if missing := len(img.Layers) - withLayer; missing > 0 {
		// Layers without history (an image that was not built): one
		// entry each, below the recorded ones.
		created := img.Created
		var pre []ocispec.History
		for range missing {
			pre = append(pre, ocispec.History{Created: &created})
		}
		hist = append(pre, hist...)
	}
	for _, h := range hist {
		item := image.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: []string{}}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer && layer < len(sizes) {
			item.Size = sizes[layer]
			layer++
		}
		out = append(out, item)
	}
	slices.Reverse(out)
	// As Docker: the newest entry is the image's, the next its parent's
	// (the image a commit was made on), and so on while they exist.
	s.mu.RLock()
	defer s.mu.RUnlock()
	id := img.ID
	for i := range out {
		out[i].ID = id
		out[i].Tags = s.tags(id)
		p, ok := s.images[id]
		if !ok || p.parent == "" {
			break
		}
		if _, ok := s.images[p.parent]; !ok {
			break
		}
		id = p.parent
	}
	return out
}

// DiskUsage returns the size of all layers and, by image ID, the size of
// the layers each image shares with another image.
func (s *Store) DiskUsage() (int64, map[string]int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var total int64
	for _, l := range s.layers {
		total += l.Size
	}
	users := map[string]int{}
	for _, img := range s.images {
		for _, c := range img.chainIDs {
			users[c]++
		}
	}
	shared := map[string]int64{}
	for id, img := range s.images {
		var n int64
		for _, c := range img.chainIDs {
			if users[c] > 1 {
				n += s.layers[c].Size
			}
		}
		shared[id] = n
	}
	return total, shared
}

// HasChildren reports whether an image was committed on top of image id
// (Docker's image prune leaves such a parent alone).
func (s *Store) HasChildren(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, img := range s.images {
		if img.parent == id {
			return true
		}
	}
	return false
}
