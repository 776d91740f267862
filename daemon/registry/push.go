package registry

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	registrytypes "github.com/moby/moby/api/types/registry"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/berth-project/berth/daemon/images"
)

// PushResult is what a push reports at its end.
type PushResult struct {
	Tag    string
	Digest string // of the manifest pushed
	Size   int    // of the manifest pushed
}

// maxMountAttempts is how many other repositories a push tries to mount a
// blob from before it uploads it, as Docker.
const maxMountAttempts = 3

// pushCandidates sorts what the store knows of a layer's blobs for a push
// to target: blobs recorded in target itself (to check with HEAD, "Layer
// already exists") and blobs in other repositories of the same registry
// (to mount, "Mounted from"). Only gzip blobs qualify: the manifest pushed
// is Docker schema 2 with gzip layers.
func pushCandidates(srcs []images.BlobSource, target reference.Named) (known, mounts []images.BlobSource) {
	domain := reference.Domain(target)
	for _, src := range srcs {
		if !isGzipLayer(src.MediaType) || src.Size <= 0 {
			continue
		}
		named, err := reference.ParseNormalizedNamed(src.Repository)
		if err != nil || reference.Domain(named) != domain {
			continue
		}
		if named.Name() == target.Name() {
			known = append(known, src)
		} else if len(mounts) < maxMountAttempts {
			mounts = append(mounts, src)
		}
	}
	return known, mounts
}

func isGzipLayer(mt string) bool {
	switch types.MediaType(mt) {
	case types.DockerLayer, types.OCILayer:
		return true
	}
	return false
}

// Push sends the image named (normalized, tagged) to its registry as a
// Docker schema 2 manifest with gzip layers. For each layer, as Docker:
// a blob the store knows the repository has is checked with HEAD ("Layer
// already exists"); else a blob another repository of the same registry
// has is mounted from there ("Mounted from REPO"); else the layer's gzip
// blob, made once and cached by the store, is uploaded unless the
// registry has it ("Pushed"). Where the blobs are is recorded for later
// pushes.
func (s *Service) Push(ctx context.Context, store *images.Store, named reference.NamedTagged, auth registrytypes.AuthConfig, out func(Event)) (PushResult, error) {
	img, err := store.Get(named.String())
	if err != nil {
		if errdefs.IsNotFound(err) {
			return PushResult{}, errdefs.ErrNotFound.WithMessage("An image does not exist locally with the tag: " + reference.FamiliarName(named))
		}
		return PushResult{}, err
	}
	ref, err := s.gcrRef(named)
	if err != nil {
		return PushResult{}, err
	}
	// Upload progress comes from the HTTP client's goroutine.
	var outMu sync.Mutex
	out = func(emit func(Event)) func(Event) {
		return func(e Event) {
			outMu.Lock()
			defer outMu.Unlock()
			emit(e)
		}
	}(out)
	out(Event{Status: "The push refers to repository [" + named.Name() + "]"})
	rawConfig, err := store.RawConfig(img)
	if err != nil {
		return PushResult{}, err
	}
	for i := len(img.Layers) - 1; i >= 0; i-- {
		out(Event{ID: shortDigest(img.Layers[i]), Status: "Preparing"})
	}
	release, err := store.PinLayers(img)
	if err != nil {
		return PushResult{}, err
	}
	defer release()
	rt, err := s.transport(ref.Context().RegistryStr())
	if err != nil {
		return PushResult{}, err
	}
	base := []remote.Option{remote.WithAuth(authenticator(auth)), remote.WithTransport(rt)}
	opts := append(slices.Clone(base), remote.WithContext(ctx))
	pushErr := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return classify(err, "pushing "+reference.FamiliarString(named))
	}

	pi := &pushImage{config: rawConfig, layers: map[v1.Hash]v1.Layer{}}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config: v1.Descriptor{
			MediaType: types.DockerConfigJSON,
			Size:      int64(len(rawConfig)),
			Digest:    mustHash(img.ID),
		},
	}
	// The layers go up maxConcurrentUploads at a time, as dockerd's; the
	// first failure stops the others. The manifest lists them in order.
	pushed := make([]v1.Layer, len(img.Layers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxConcurrentUploads)
	layerOpts := append(slices.Clone(base), remote.WithContext(gctx))
	for i, diffID := range img.Layers {
		id := shortDigest(diffID)
		if i >= maxConcurrentUploads {
			out(Event{ID: id, Status: "Waiting"})
		}
		g.Go(func() error {
			l, status, err := s.pushLayer(gctx, store, img, i, ref.Context(), named, layerOpts, pushErr, func(n, total int64) {
				out(Event{ID: id, Status: "Pushing", Current: n, Total: total})
			})
			if err != nil {
				return err
			}
			d, _ := l.Digest()
			size, _ := l.Size()
			if err := store.AddBlobSource(diffID, images.BlobSource{
				Digest: digest.Digest(d.String()), Size: size, MediaType: string(types.DockerLayer), Repository: named.Name(),
			}); err != nil {
				slog.Warn("recording where a layer was pushed", slog.String("layer", diffID), slog.Any("error", err))
			}
			out(Event{ID: id, Status: status})
			pushed[i] = l
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return PushResult{}, err
	}
	for _, l := range pushed {
		d, _ := l.Digest()
		size, _ := l.Size()
		pi.layers[d] = l
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.DockerLayer, Size: size, Digest: d})
	}
	if pi.manifest, err = json.Marshal(m); err != nil {
		return PushResult{}, err
	}
	vimg, err := partial.CompressedToImage(pi)
	if err != nil {
		return PushResult{}, err
	}
	if err := remote.Write(ref, vimg, opts...); err != nil {
		return PushResult{}, pushErr(err)
	}
	dgst, err := vimg.Digest()
	if err != nil {
		return PushResult{}, err
	}
	if err := store.AddRepoDigest(img.ID, named.Name()+"@"+dgst.String()); err != nil {
		return PushResult{}, err
	}
	res := PushResult{Tag: named.Tag(), Digest: dgst.String(), Size: len(pi.manifest)}
	out(Event{Status: fmt.Sprintf("%s: digest: %s size: %d", res.Tag, res.Digest, res.Size)})
	return res, nil
}

// maxConcurrentUploads is how many layers of a push go up at once, as
// dockerd's default max-concurrent-uploads.
const maxConcurrentUploads = 5

// pushLayer makes sure repo holds a blob of layer i of img and returns
// that blob and the status Docker shows for it. Registry errors go
// through remoteErr; the store's are returned as they are.
func (s *Service) pushLayer(ctx context.Context, store *images.Store, img *images.Image, i int, repo name.Repository, named reference.Named, opts []remote.Option, remoteErr func(error) error, progress func(n, total int64)) (v1.Layer, string, error) {
	diffID := mustHash(img.Layers[i])
	known, mounts := pushCandidates(store.BlobSources(img.Layers[i]), named)
	for _, src := range known {
		l := &registryBlob{digest: mustHash(src.Digest.String()), diffID: diffID, size: src.Size}
		rl, err := remote.Layer(repo.Digest(src.Digest.String()), opts...)
		if err != nil {
			return nil, "", remoteErr(err)
		}
		ok, err := partial.Exists(rl)
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		if err != nil {
			// As Docker: a failed check is not the push's end; the
			// blob is mounted or uploaded instead.
			slog.Debug("checking a known blob failed", slog.String("blob", src.Digest.String()), slog.Any("error", err))
			continue
		}
		if ok {
			return l, "Layer already exists", nil
		}
	}
	for _, src := range mounts {
		from, err := name.NewRepository(src.Repository, repoOptions(repo)...)
		if err != nil {
			continue
		}
		l := &registryBlob{digest: mustHash(src.Digest.String()), diffID: diffID, size: src.Size}
		// A refused mount makes the registry start an upload, which
		// registryBlob cannot feed: the attempt fails and the next
		// source, or the upload of the layer's own blob, is tried.
		err = remote.WriteLayer(repo, &remote.MountableLayer{Layer: l, Reference: from.Digest(src.Digest.String())}, opts...)
		if err == nil {
			return l, "Mounted from " + reference.Path(mustNamed(src.Repository)), nil
		}
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		slog.Debug("blob mount refused, trying the next source", slog.String("blob", src.Digest.String()), slog.String("from", src.Repository), slog.Any("error", err))
	}
	pl, err := store.PushBlob(ctx, img, i)
	if err != nil {
		return nil, "", err
	}
	l := &pushLayer{digest: mustHash(pl.Digest.String()), diffID: diffID, size: pl.Size, path: pl.Path, progress: progress}
	if err := remote.WriteLayer(repo, l, opts...); err != nil {
		return nil, "", remoteErr(err)
	}
	if l.opened.Load() {
		return l, "Pushed", nil
	}
	return l, "Layer already exists", nil
}

func repoOptions(repo name.Repository) []name.Option {
	if repo.Scheme() == "http" {
		return []name.Option{name.Insecure}
	}
	return nil
}

func mustNamed(s string) reference.Named {
	n, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		panic(fmt.Sprintf("repository %q checked by pushCandidates: %v", s, err))
	}
	return n
}

func mustHash(s string) v1.Hash {
	h, err := v1.NewHash(s)
	if err != nil {
		panic(fmt.Sprintf("digest %q from the store: %v", s, err))
	}
	return h
}

// pushImage is a stored image as go-containerregistry's compressed image
// core: the manifest made for the push, the config blob and the cached
// gzip layers.
type pushImage struct {
	manifest []byte
	config   []byte
	layers   map[v1.Hash]v1.Layer
}

func (p *pushImage) RawConfigFile() ([]byte, error)      { return p.config, nil }
func (p *pushImage) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }
func (p *pushImage) RawManifest() ([]byte, error)        { return p.manifest, nil }

func (p *pushImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := p.layers[h]; ok {
		return l, nil
	}
	if cfg := mustHash(digestOf(p.config)); h == cfg {
		return &configLayer{raw: p.config, digest: cfg}, nil
	}
	return nil, fmt.Errorf("blob %s is not part of the image", h)
}

// pushLayer is a cached gzip layer blob.
type pushLayer struct {
	digest, diffID v1.Hash
	size           int64
	path           string
	opened         atomic.Bool // its content was read: it was uploaded
	progress       func(n, total int64)
}

func (l *pushLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *pushLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *pushLayer) Size() (int64, error)                { return l.size, nil }
func (l *pushLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
func (l *pushLayer) Compressed() (io.ReadCloser, error) {
	l.opened.Store(true)
	f, err := os.Open(l.path)
	if err != nil || l.progress == nil {
		return f, err
	}
	return &uploadProgress{ReadCloser: f, total: l.size, report: l.progress}, nil
}

// uploadProgress reports the bytes of a blob read for its upload, every
// 512 KiB and at the end.
type uploadProgress struct {
	io.ReadCloser
	n, last, total int64
	report         func(n, total int64)
}

func (u *uploadProgress) Read(b []byte) (int, error) {
	n, err := u.ReadCloser.Read(b)
	u.n += int64(n)
	if u.n-u.last >= 512<<10 || (err == io.EOF && u.n != u.last) {
		u.last = u.n
		u.report(u.n, u.total)
	}
	return n, err
}

func (l *pushLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}

// registryBlob is a layer blob a registry holds and the store does not:
// enough to check for it or mount it, not to upload it.
type registryBlob struct {
	digest, diffID v1.Hash
	size           int64
}

var errRemoteOnly = errors.New("the blob is only in the registry")

func (l *registryBlob) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *registryBlob) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *registryBlob) Size() (int64, error)                { return l.size, nil }
func (l *registryBlob) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
func (l *registryBlob) Compressed() (io.ReadCloser, error)  { return nil, errRemoteOnly }
func (l *registryBlob) Uncompressed() (io.ReadCloser, error) {
	return nil, errRemoteOnly
}

type configLayer struct {
	raw    []byte
	digest v1.Hash
}

func (c *configLayer) Digest() (v1.Hash, error)            { return c.digest, nil }
func (c *configLayer) Size() (int64, error)                { return int64(len(c.raw)), nil }
func (c *configLayer) MediaType() (types.MediaType, error) { return types.DockerConfigJSON, nil }
func (c *configLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(c.raw)), nil
}
