package images

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
	"github.com/moby/go-archive/compression"
	digest "github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/pkg/atomicfile"
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
	tee := io.TeeReader(dec, diff.Hash())
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

// unpackLayer unpacks a layer stream into dir/diff and returns its diffID
// and the size of the unpacked content.
func unpackLayer(r io.Reader, wantBlob digest.Digest, dir string) (digest.Digest, int64, error) {
	diffDir := filepath.Join(dir, "diff")
	if err := os.MkdirAll(diffDir, 0o755); err != nil {
		return "", 0, err
	}
	// The tar-split record (headers and padding, not file content) lets
	// push rebuild the exact layer stream from diff/, as Docker does.
	tsf, err := os.OpenFile(filepath.Join(dir, tarSplitFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", 0, err
	}
	defer tsf.Close()
	tsz := gzip.NewWriter(tsf)
	diffID, err := readLayer(r, wantBlob, func(tr io.Reader) error {
		its, err := asm.NewInputTarStream(tr, storage.NewJSONPacker(tsz), storage.NewDiscardFilePutter())
		if err != nil {
			return fmt.Errorf("reading layer: %w", err)
		}
		if err := archive.Unpack(its, diffDir, layerTarOptions()); err != nil {
			// Let the tar-split reader finish before failing.
			_, _ = io.Copy(io.Discard, its)
			if isBadArchive(err) {
				return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid layer: %v", err))
			}
			return fmt.Errorf("unpacking layer: %w", err)
		}
		// The end-of-archive padding belongs to the record too.
		if _, err := io.Copy(io.Discard, its); err != nil {
			return fmt.Errorf("reading layer: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	if err := tsz.Close(); err != nil {
		return "", 0, err
	}
	if err := tsf.Close(); err != nil {
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

	repoDigest string // normalized "name@sha256:..." of a pulled manifest, or ""
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

// release unpins the layers the plan relied on. A layer left with no pin
// and no image (one a failed pull committed) is removed.
func (p *plan) release() {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var unpinned []string
	for _, c := range p.pinned {
		if s.pins[c]--; s.pins[c] <= 0 {
			delete(s.pins, c)
			unpinned = append(unpinned, c)
		}
	}
	p.pinned = nil
	if len(unpinned) == 0 {
		return
	}
	used := map[string]bool{}
	for _, img := range s.images {
		for _, c := range img.chainIDs {
			used[c] = true
		}
	}
	for _, c := range unpinned {
		if !used[c] {
			if err := s.removeLayer(c); err != nil {
				slog.Warn("removing unused layer", slog.String("layer", c), slog.Any("error", err))
			}
		}
	}
}

// acquireLayer is needLayer for pulls: when another pull is unpacking
// chainID it waits for that one and uses its result. When it returns
// true the caller must end with commitLayer or abandonLayer.
func (p *plan) acquireLayer(ctx context.Context, chainID string, waiting func()) (bool, error) {
	s := p.s
	for {
		s.mu.Lock()
		if _, ok := s.layers[chainID]; ok {
			s.pins[chainID]++
			p.pinned = append(p.pinned, chainID)
			s.mu.Unlock()
			return false, nil
		}
		ch, busy := s.inflight[chainID]
		if !busy {
			s.inflight[chainID] = make(chan struct{})
			s.mu.Unlock()
			return true, nil
		}
		s.mu.Unlock()
		if waiting != nil {
			waiting()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// abandonLayer ends an acquireLayer that did not produce the layer.
func (p *plan) abandonLayer(chainID string) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if ch, ok := p.s.inflight[chainID]; ok {
		close(ch)
		delete(p.s.inflight, chainID)
	}
}

// commitLayer moves an unpacked layer (dir holding diff/ and layer.json)
// into the store at once, pinned by the plan, so concurrent pulls share
// it. A crash leaves an unused layer, removed when the store is opened.
func (p *plan) commitLayer(dir string, info layerInfo) error {
	defer p.abandonLayer(info.ChainID)
	if err := syncFS(dir); err != nil {
		return err
	}
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Rename(dir, s.layerPath(info.ChainID)); err != nil {
		return fmt.Errorf("committing layer %s: %w", info.ChainID, err)
	}
	if err := syncDir(filepath.Join(s.root, "layers")); err != nil {
		_ = s.removeLayer(info.ChainID)
		return err
	}
	s.layers[info.ChainID] = info
	s.pins[info.ChainID]++
	p.pinned = append(p.pinned, info.ChainID)
	return nil
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
		newDigest := pi.repoDigest != "" && !slices.Contains(img.repoDigests, pi.repoDigest)
		if newDigest {
			img.repoDigests = append(img.repoDigests, pi.repoDigest)
			slices.Sort(img.repoDigests)
		}
		if !exists || len(pi.refs) > 0 || newDigest {
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

// layerStream rebuilds the exact tar stream of the layer in layerDir from
// its tar-split record and the unpacked files (push and save need the
// original bytes, whose digest is the layer's diffID). It fails with
// os.ErrNotExist when the layer has no record.
func layerStream(layerDir string) (io.ReadCloser, error) {
	tsf, err := os.Open(filepath.Join(layerDir, tarSplitFile))
	if err != nil {
		return nil, err
	}
	tsz, err := gzip.NewReader(tsf)
	if err != nil {
		tsf.Close()
		return nil, fmt.Errorf("reading tar-split: %w", err)
	}
	root, err := os.OpenRoot(filepath.Join(layerDir, "diff"))
	if err != nil {
		tsf.Close()
		return nil, err
	}
	stream := asm.NewOutputTarStream(rootGetter{root}, storage.NewJSONUnpacker(tsz))
	return &layerStreamCloser{ReadCloser: stream, closers: []io.Closer{root, tsf}}, nil
}

type layerStreamCloser struct {
	io.ReadCloser
	closers []io.Closer
}

func (l *layerStreamCloser) Close() error {
	err := l.ReadCloser.Close()
	for _, c := range l.closers {
		c.Close()
	}
	return err
}

// rootGetter opens tar-split file payloads inside the layer's diff dir;
// os.Root keeps symlinks in the layer from leading elsewhere.
type rootGetter struct{ root *os.Root }

func (g rootGetter) Get(name string) (io.ReadCloser, error) {
	return g.root.Open(filepath.Clean("./" + name))
}
