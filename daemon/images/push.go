package images

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/pkg/atomicfile"
)

const (
	tarSplitFile = "tar-split.json.gz" // in a layer dir: how to rebuild its tar stream
	pushBlobFile = "blob.tar.gz"       // in a layer dir: the gzip blob push made, cached
	pushBlobInfo = "blob.json"         // its digest and size
)

// PushLayer is a layer as a registry stores it: a gzip blob on disk.
type PushLayer struct {
	Digest digest.Digest // of the gzip blob
	DiffID digest.Digest
	Size   int64
	Path   string
}

type pushBlob struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
}

// RawConfig returns the config blob of img (its ID is the blob's digest).
func (s *Store) RawConfig(img *Image) ([]byte, error) {
	raw, err := os.ReadFile(s.blobPath(img.ID))
	if err != nil {
		return nil, fmt.Errorf("reading config of image %s: %w", img.ID, err)
	}
	return raw, nil
}

// PushLayers returns img's layers as gzip blobs, bottom first (PinLayers
// and PushBlob for each layer). The layers stay pinned until release is
// called.
func (s *Store) PushLayers(ctx context.Context, img *Image) (layers []PushLayer, release func(), err error) {
	release, err = s.PinLayers(img)
	if err != nil {
		return nil, nil, err
	}
	for i := range img.Layers {
		l, err := s.PushBlob(ctx, img, i)
		if err != nil {
			release()
			return nil, nil, err
		}
		layers = append(layers, l)
	}
	return layers, release, nil
}

// PinLayers keeps img's layers in the store until release is called, so
// a push can read them while the image is removed.
func (s *Store) PinLayers(img *Image) (release func(), err error) {
	p := s.newPlan("")
	for _, c := range img.chainIDs {
		if !p.pinExisting(c) {
			p.release()
			return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("layer %s of image %s is missing", c, img.ID))
		}
	}
	return p.release, nil
}

// PushBlob returns layer i (bottom first) of img, pinned by PinLayers, as
// a gzip blob. The blob is made the first time, from the layer's tar
// stream rebuilt with tar-split and checked against its diffID, and kept
// in the layer's directory for later pushes.
func (s *Store) PushBlob(ctx context.Context, img *Image, i int) (PushLayer, error) {
	if i < 0 || i >= len(img.chainIDs) || len(img.chainIDs) != len(img.Layers) {
		return PushLayer{}, fmt.Errorf("image %s has no layer %d", img.ID, i)
	}
	return s.pushBlob(ctx, img.chainIDs[i], digest.Digest(img.Layers[i]))
}

// pinExisting pins chainID when the store has it.
func (p *plan) pinExisting(chainID string) bool {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if _, ok := p.s.layers[chainID]; !ok {
		return false
	}
	p.s.pins[chainID]++
	p.pinned = append(p.pinned, chainID)
	return true
}

// pushBlob returns the cached gzip blob of a pinned layer, making it once.
// Concurrent pushes of a layer share the inflight mark pulls use.
func (s *Store) pushBlob(ctx context.Context, chainID string, diffID digest.Digest) (PushLayer, error) {
	dir := s.layerPath(chainID)
	read := func() (PushLayer, bool) {
		data, err := os.ReadFile(filepath.Join(dir, pushBlobInfo))
		if err != nil {
			return PushLayer{}, false
		}
		var b pushBlob
		if json.Unmarshal(data, &b) != nil || b.Digest.Validate() != nil {
			return PushLayer{}, false
		}
		return PushLayer{Digest: b.Digest, DiffID: diffID, Size: b.Size, Path: filepath.Join(dir, pushBlobFile)}, true
	}
	key := "push:" + chainID
	for {
		if l, ok := read(); ok {
			return l, nil
		}
		s.mu.Lock()
		ch, busy := s.inflight[key]
		if !busy {
			s.inflight[key] = make(chan struct{})
		}
		s.mu.Unlock()
		if !busy {
			break
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return PushLayer{}, ctx.Err()
		}
	}
	defer func() {
		s.mu.Lock()
		close(s.inflight[key])
		delete(s.inflight, key)
		s.mu.Unlock()
	}()
	if l, ok := read(); ok {
		return l, nil
	}
	b, err := s.compressLayer(ctx, chainID, diffID)
	if err != nil {
		return PushLayer{}, err
	}
	data, err := json.Marshal(b)
	if err != nil {
		return PushLayer{}, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, pushBlobInfo), data, 0o600); err != nil {
		return PushLayer{}, err
	}
	l, _ := read()
	return l, nil
}

// compressLayer rebuilds the layer's tar stream, checks its diffID and
// writes the gzip blob into the layer directory.
func (s *Store) compressLayer(ctx context.Context, chainID string, diffID digest.Digest) (pushBlob, error) {
	dir := s.layerPath(chainID)
	stream, err := layerStream(dir)
	if errors.Is(err, os.ErrNotExist) {
		return pushBlob{}, errdefs.ErrFailedPrecondition.WithMessage(fmt.Sprintf(
			"layer %s was stored without the record push needs (by an older berthd): remove the image and pull or load it again", diffID))
	}
	if err != nil {
		return pushBlob{}, fmt.Errorf("layer %s: %w", diffID, err)
	}
	defer stream.Close()

	tmp, err := os.CreateTemp(s.tmpDir(), "push-")
	if err != nil {
		return pushBlob{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	blob := digest.SHA256.Digester()
	counter := &countWriter{w: io.MultiWriter(tmp, blob.Hash())}
	gz := gzip.NewWriter(counter)
	diff := digest.SHA256.Digester()
	if _, err := io.Copy(io.MultiWriter(gz, diff.Hash()), ctxReader{ctx, stream}); err != nil {
		return pushBlob{}, fmt.Errorf("layer %s: rebuilding its tar stream: %w", diffID, err)
	}
	if err := gz.Close(); err != nil {
		return pushBlob{}, err
	}
	if got := diff.Digest(); got != diffID {
		return pushBlob{}, fmt.Errorf("layer %s: rebuilt tar stream has digest %s: %w", diffID, got, errdefs.ErrDataLoss)
	}
	if err := tmp.Sync(); err != nil {
		return pushBlob{}, err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, pushBlobFile)); err != nil {
		return pushBlob{}, err
	}
	return pushBlob{Digest: blob.Digest(), Size: counter.n}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// AddRepoDigest records that img is known to the registry as repoDigest
// ("name@sha256:..."), as after a push.
func (s *Store) AddRepoDigest(imageID, repoDigest string) error {
	norm, ok := normalizeDigestRef(repoDigest)
	if !ok {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid digest reference %q", repoDigest))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[imageID]
	if !ok {
		return errdefs.ErrNotFound.WithMessage("No such image: " + imageID)
	}
	for _, d := range img.repoDigests {
		if d == norm {
			return nil
		}
	}
	img.repoDigests = append(img.repoDigests, norm)
	return s.saveRecord(img)
}
