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
	"time"

	"github.com/moby/go-archive"
	"github.com/moby/moby/api/types/image"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Save writes the images names resolve to as a classic `docker save`
// archive (manifest.json, <config>.json, <layer>/layer.tar), which Load
// and `docker load` read back.
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
		tags []string
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
		if ref != "" && !slices.Contains(imgs[i].tags, FamiliarName(ref)) {
			imgs[i].tags = append(imgs[i].tags, FamiliarName(ref))
		}
	}
	work, err := os.MkdirTemp(s.tmpDir(), "save-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	tw := tar.NewWriter(w)
	type manifestEntry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	manifest := []manifestEntry{}
	written := map[string]bool{}
	for _, sv := range imgs {
		dirs := s.LayerDirs(sv.img)
		slices.Reverse(dirs) // bottom first
		var diffIDs []digest.Digest
		var layerNames []string
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
			if err != nil {
				f.Close()
				return fmt.Errorf("archiving layer %s: %w", dir, err)
			}
			diffIDs = append(diffIDs, d)
			name := d.Encoded() + "/layer.tar"
			layerNames = append(layerNames, name)
			if !written[name] {
				written[name] = true
				if err := writeTarDir(tw, d.Encoded()); err != nil {
					f.Close()
					return err
				}
				if err := writeTarFile(tw, name, f); err != nil {
					f.Close()
					return err
				}
			}
			f.Close()
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
		cfgName := digest.FromBytes(raw).Encoded() + ".json"
		if !written[cfgName] {
			written[cfgName] = true
			if err := writeTarBytes(tw, cfgName, raw); err != nil {
				return err
			}
		}
		manifest = append(manifest, manifestEntry{Config: cfgName, RepoTags: nonNil(sv.tags), Layers: layerNames})
	}
	mj, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	if err := writeTarBytes(tw, "manifest.json", mj); err != nil {
		return err
	}
	return tw.Close()
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
