package images

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
	"github.com/moby/go-archive/compression"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/pkg/atomicfile"
	"github.com/berth-project/berth/pkg/tarsplit"
)

// layerTarOptions unpacks layers for overlayfs: AUFS ".wh." whiteouts become
// 0/0 character devices and ".wh..wh..opq" becomes the opaque xattr. Owners
// are kept (the daemon runs as root).
func layerTarOptions() *archive.TarOptions {
	return &archive.TarOptions{WhiteoutFormat: archive.OverlayWhiteoutFormat}
}

// readLayer decompresses a layer stream (plain, gzip, zstd, ...) and hands
// the tar stream to consume, which need not read it to the end. It returns
// the diffID (digest of the whole uncompressed stream) and, when
// wantBlob is set, verifies the digest of the compressed stream.
func readLayer(r io.Reader, wantBlob digest.Digest, consume func(io.Reader) error) (digest.Digest, error) {
	return readLayerSplit(r, wantBlob, consume, "")
}

// readLayerSplit is readLayer that, with a splitPath, also records the
// framing of the uncompressed stream there (see pkg/tarsplit), so that
// Save can rebuild the identical stream from the unpacked files. A stream
// that cannot be recorded leaves no record, not an error: the layer is
// still good, Save archives it again.
func readLayerSplit(r io.Reader, wantBlob digest.Digest, consume func(io.Reader) error, splitPath string) (digest.Digest, error) {
	var blob digest.Digester
	if wantBlob != "" {
		blob = wantBlob.Algorithm().Digester()
		r = io.TeeReader(r, blob.Hash())
	}
	dec, err := compression.DecompressStream(r)
	if err != nil {
		return "", fmt.Errorf("decompressing layer: %w", err)
	}
	defer dec.Close()
	diff := digest.SHA256.Digester()
	var sink io.Writer = diff.Hash()
	endSplit := func(error) {}
	if splitPath != "" {
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := tarsplit.RecordFile(pr, splitPath); err != nil {
				slog.Debug("layer framing not recorded", slog.Any("error", err))
			}
			_, _ = io.Copy(io.Discard, pr)
		}()
		sink = io.MultiWriter(sink, pw)
		ended := false
		endSplit = func(err error) {
			if !ended {
				ended = true
				pw.CloseWithError(err)
				<-done
			}
		}
	}
	defer endSplit(io.ErrUnexpectedEOF)
	tee := io.TeeReader(dec, sink)
	if consume != nil {
		if err := consume(tee); err != nil {
			return "", err
		}
	}
	// Drain what the tar reader left (end-of-archive padding): the diffID
	// covers the whole stream.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return "", fmt.Errorf("reading layer: %w", err)
	}
	endSplit(nil)
	if blob != nil {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return "", fmt.Errorf("reading layer: %w", err)
		}
		if got := blob.Digest(); got != wantBlob {
			return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("layer blob digest mismatch: expected %s, got %s", wantBlob, got))
		}
	}
	return diff.Digest(), nil
}

// splitFile, next to a layer's diff directory, records the framing of the
// layer's tar stream (pkg/tarsplit).
const splitFile = "tar-split.json.gz"

// unpackLayer unpacks a layer stream into dir/diff, records its framing in
// dir/tar-split.json.gz, and returns its diffID and the size of the
// unpacked content.
func unpackLayer(r io.Reader, wantBlob digest.Digest, dir string) (digest.Digest, int64, error) {
	diffDir := filepath.Join(dir, "diff")
	if err := os.MkdirAll(diffDir, 0o755); err != nil {
		return "", 0, err
	}
	diffID, err := readLayerSplit(r, wantBlob, func(tr io.Reader) error {
		if err := archive.Unpack(tr, diffDir, layerTarOptions()); err != nil {
			if isBadArchive(err) {
				return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid layer: %v", err))
			}
			return fmt.Errorf("unpacking layer: %w", err)
		}
		return nil
	}, filepath.Join(dir, splitFile))
	if err != nil {
		return "", 0, err
	}
	size, err := dirSize(diffDir)
	if err != nil {
		return "", 0, err
	}
	return diffID, size, nil
}

// dirSize sums the sizes of the regular files and symlinks under dir.
func dirSize(dir string) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
			info, err := d.Info()
			if err != nil {
				return err
			}
			size += info.Size()
		}
		return nil
	})
	return size, err
}

// preparedLayer is a layer unpacked into scratch space, not yet committed.
type preparedLayer struct {
	dir  string // holds diff/ and layer.json
	info layerInfo
}

// plannedImage is an image ready to be committed.
type plannedImage struct {
	img  *Image
	raw  []byte   // config blob
	refs []string // normalized references to point at it
}

// plan collects what one load or import adds. Layers that already existed
// when the plan was made are pinned so Delete keeps them until commit.
type plan struct {
	s       *Store
	work    string
	pending map[string]*preparedLayer // by chain ID
	pinned  []string
	images  []plannedImage
}

func (s *Store) newPlan(work string) *plan {
	return &plan{s: s, work: work, pending: map[string]*preparedLayer{}}
}

// release unpins the layers the plan relied on.
func (p *plan) release() {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	for _, c := range p.pinned {
		if p.s.pins[c]--; p.s.pins[c] <= 0 {
			delete(p.s.pins, c)
		}
	}
	p.pinned = nil
}

// needLayer reports whether chainID must be unpacked: false when this plan
// already unpacked it or the store has it (which is then pinned).
func (p *plan) needLayer(chainID string) bool {
	if _, ok := p.pending[chainID]; ok {
		return false
	}
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if _, ok := p.s.layers[chainID]; ok {
		p.s.pins[chainID]++
		p.pinned = append(p.pinned, chainID)
		return false
	}
	return true
}

// addLayer unpacks one layer of img (index i) from open(), checking its
// diffID against the config. Layers the store or the plan has are only
// hashed.
func (p *plan) addLayer(img *Image, i int, wantBlob digest.Digest, open func() (io.ReadCloser, error)) error {
	chainID, want := img.chainIDs[i], digest.Digest(img.Layers[i])
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if !p.needLayer(chainID) {
		got, err := readLayer(rc, wantBlob, nil)
		if err != nil {
			return err
		}
		return checkDiffID(want, got)
	}
	dir, err := os.MkdirTemp(p.work, "layer-")
	if err != nil {
		return err
	}
	got, size, err := unpackLayer(rc, wantBlob, dir)
	if err != nil {
		return err
	}
	if err := checkDiffID(want, got); err != nil {
		return err
	}
	info := layerInfo{ChainID: chainID, DiffID: want.String(), Size: size}
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "layer.json"), data, 0o600); err != nil {
		return err
	}
	p.pending[chainID] = &preparedLayer{dir: dir, info: info}
	return nil
}

func checkDiffID(want, got digest.Digest) error {
	if want != got {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("layer diff ID mismatch: image config expects %s, layer content is %s", want, got))
	}
	return nil
}

// commit moves the prepared layers into place and registers the images and
// their references, all under mu. On error nothing new stays referenced.
func (p *plan) commit() (retErr error) {
	s := p.s
	// Unpacked files reach the disk before their layer becomes visible.
	if len(p.pending) > 0 {
		if err := syncFS(p.work); err != nil {
			return err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	var movedLayers, newImages []string
	savedRefs := maps.Clone(s.refs)
	defer func() {
		if retErr == nil {
			return
		}
		s.refs = savedRefs
		for _, id := range newImages {
			delete(s.images, id)
			_ = os.Remove(s.recordPath(id))
			_ = os.Remove(s.blobPath(id))
		}
		for _, c := range movedLayers {
			_ = s.removeLayer(c)
		}
	}()

	for c, l := range p.pending {
		if _, ok := s.layers[c]; ok {
			continue // committed meanwhile by another load; ours is dropped
		}
		if err := os.Rename(l.dir, s.layerPath(c)); err != nil {
			return fmt.Errorf("committing layer %s: %w", c, err)
		}
		s.layers[c] = l.info
		movedLayers = append(movedLayers, c)
	}
	if len(movedLayers) > 0 {
		if err := syncDir(filepath.Join(s.root, "layers")); err != nil {
			return err
		}
	}

	for _, pi := range p.images {
		img := pi.img
		img.Size = 0
		for _, c := range img.chainIDs {
			l, ok := s.layers[c]
			if !ok {
				return fmt.Errorf("layer %s of image %s is missing", c, img.ID)
			}
			img.Size += l.Size
		}
		existing, exists := s.images[img.ID]
		if exists {
			img = existing
		} else {
			if err := atomicfile.WriteFile(s.blobPath(img.ID), pi.raw, 0o600); err != nil {
				return err
			}
			newImages = append(newImages, img.ID)
			s.images[img.ID] = img
		}
		if len(pi.refs) > 0 {
			img.lastTagTime = timeNow()
		}
		if !exists || len(pi.refs) > 0 {
			if err := s.saveRecord(img); err != nil {
				return err
			}
		}
		for _, r := range pi.refs {
			s.refs[r] = img.ID
		}
	}
	return s.saveRefs()
}

// syncFS flushes the filesystem holding dir (one syncfs, not one fsync per
// unpacked file).
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("syncing layers: %w", err)
	}
	return nil
}
