package images

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/pkg/atomicfile"
)

// RemoteLayer is one layer blob of an image fetched from a registry.
type RemoteLayer struct {
	Digest digest.Digest // digest of the (compressed) blob
	Size   int64
	Open   func(ctx context.Context) (io.ReadCloser, error)
}

// RemoteImage is an image a registry serves: its config blob, already
// fetched, and its layers, fetched only when the store lacks them.
type RemoteImage struct {
	ConfigDigest digest.Digest // from the manifest
	Config       []byte
	Layers       []RemoteLayer
	Ref          string // "name:tag" to point at the image, or ""
	RepoDigest   string // "name@sha256:<manifest>" recorded in RepoDigests
}

// LayerEvent reports the progress of one layer of a pull.
type LayerEvent struct {
	Blob    digest.Digest
	Status  string // Docker's words: "Already exists", "Waiting", "Downloading", "Verifying Checksum", "Pull complete"
	Current int64
	Total   int64
}

// AddRemote adds a registry image. Layers the store has are not fetched;
// a layer another pull is fetching is waited for. Every blob is checked
// against its digest (and every layer against its diffID) while it is
// unpacked into scratch space under the store, before it is committed;
// the image and its references are committed last, so a failure or a
// crash leaves no image, and the layers it committed are removed.
// fresh reports whether the image was new to the store or the tag moved.
func (s *Store) AddRemote(ctx context.Context, ri RemoteImage, progress func(LayerEvent)) (img *Image, fresh bool, err error) {
	if progress == nil {
		progress = func(LayerEvent) {}
	}
	if got := digest.FromBytes(ri.Config); ri.ConfigDigest != "" && got != ri.ConfigDigest {
		return nil, false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("config blob %s failed verification: content has digest %s", ri.ConfigDigest, got))
	}
	img, err = parseConfig(ri.Config)
	if err != nil {
		return nil, false, err
	}
	if len(img.Layers) != len(ri.Layers) {
		return nil, false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"invalid image: manifest lists %d layers but its config lists %d diff IDs", len(ri.Layers), len(img.Layers)))
	}
	var refs []string
	if ri.Ref != "" {
		key, err := normalizeRef(ri.Ref)
		if err != nil {
			return nil, false, err
		}
		refs = append(refs, key)
	}
	// As Docker, a pull is news when it fetched a new image or moved the
	// tag to it.
	s.mu.RLock()
	_, existed := s.images[img.ID]
	for _, r := range refs {
		if s.refs[r] != img.ID {
			existed = false
		}
	}
	s.mu.RUnlock()

	work, err := os.MkdirTemp(s.tmpDir(), "pull-")
	if err != nil {
		return nil, false, fmt.Errorf("pulling image: %w", err)
	}
	defer os.RemoveAll(work)
	p := s.newPlan(work)
	defer p.release()

	if err := s.fetchLayers(ctx, p, work, img, ri.Layers, progress); err != nil {
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	p.images = append(p.images, plannedImage{img: img, raw: ri.Config, refs: refs, repoDigest: ri.RepoDigest})
	if err := p.commit(); err != nil {
		return nil, false, err
	}
	got, err := s.Get(img.ID)
	return got, !existed, err
}

// maxConcurrentDownloads is how many layers of a pull are fetched at
// once, as dockerd's default max-concurrent-downloads.
const maxConcurrentDownloads = 3

// fetchLayers fetches the layers of img the store lacks, up to
// maxConcurrentDownloads at a time; each is committed on its own once
// verified. The first failure stops the others and is returned.
func (s *Store) fetchLayers(ctx context.Context, p *plan, work string, img *Image, layers []RemoteLayer, progress func(LayerEvent)) error {
	var mu sync.Mutex // progress is not safe for concurrent use
	report := func(e LayerEvent) {
		mu.Lock()
		defer mu.Unlock()
		progress(e)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, maxConcurrentDownloads)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	fail := func(err error) {
		once.Do(func() {
			firstErr = err
			cancel(err)
		})
	}
	for i, l := range layers {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			chainID := img.chainIDs[i]
			need, err := p.acquireLayer(ctx, chainID, func() { report(LayerEvent{Blob: l.Digest, Status: "Waiting"}) })
			if err != nil {
				fail(err)
				return
			}
			if !need {
				report(LayerEvent{Blob: l.Digest, Status: "Already exists"})
				return
			}
			if err := s.fetchLayer(ctx, p, work, l, chainID, digest.Digest(img.Layers[i]), report); err != nil {
				fail(err)
				return
			}
			report(LayerEvent{Blob: l.Digest, Status: "Pull complete"})
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return context.Cause(ctx)
}

// fetchLayer downloads, verifies and unpacks one layer and commits it.
func (s *Store) fetchLayer(ctx context.Context, p *plan, work string, l RemoteLayer, chainID string, diffID digest.Digest, progress func(LayerEvent)) (retErr error) {
	committed := false
	defer func() {
		if !committed {
			p.abandonLayer(chainID)
		}
	}()
	if err := l.Digest.Validate(); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid layer digest %q: %v", l.Digest, err))
	}
	rc, err := l.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	dir, err := os.MkdirTemp(work, "layer-")
	if err != nil {
		return err
	}
	pr := &progressReader{r: ctxReader{ctx, rc}, total: l.Size, report: func(n int64) {
		progress(LayerEvent{Blob: l.Digest, Status: "Downloading", Current: n, Total: l.Size})
	}}
	got, size, err := unpackLayer(pr, l.Digest, dir)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	progress(LayerEvent{Blob: l.Digest, Status: "Verifying Checksum"})
	if err := checkDiffID(diffID, got); err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	info := layerInfo{ChainID: chainID, DiffID: diffID.String(), Size: size}
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "layer.json"), data, 0o600); err != nil {
		return err
	}
	committed = true
	return p.commitLayer(dir, info)
}

// progressReader reports the bytes read, every 256 KiB and at the end.
type progressReader struct {
	r      io.Reader
	n      int64
	last   int64
	total  int64
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.n-p.last >= 256<<10 || (err == io.EOF && p.n != p.last) {
		p.last = p.n
		p.report(p.n)
	}
	return n, err
}
