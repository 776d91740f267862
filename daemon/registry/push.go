package registry

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	registrytypes "github.com/moby/moby/api/types/registry"

	"github.com/berth-project/berth/daemon/images"
)

// PushResult is what a push reports at its end.
type PushResult struct {
	Tag    string
	Digest string // of the manifest pushed
	Size   int    // of the manifest pushed
}

// Push sends the image named (normalized, tagged) to its registry as a
// Docker schema 2 manifest with gzip layers. Blobs the repository has are
// skipped (go-containerregistry checks each with HEAD); the gzip blobs
// are made once and cached by the store.
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
	out(Event{Status: "The push refers to repository [" + named.Name() + "]"})
	rawConfig, err := store.RawConfig(img)
	if err != nil {
		return PushResult{}, err
	}
	for i := len(img.Layers) - 1; i >= 0; i-- {
		out(Event{ID: shortDigest(img.Layers[i]), Status: "Preparing"})
	}
	layers, release, err := store.PushLayers(ctx, img)
	if err != nil {
		return PushResult{}, err
	}
	defer release()

	pi := &pushImage{config: rawConfig, layers: map[v1.Hash]*pushLayer{}}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config: v1.Descriptor{
			MediaType: types.DockerConfigJSON,
			Size:      int64(len(rawConfig)),
			Digest:    mustHash(img.ID),
		},
	}
	for _, l := range layers {
		h, err := v1.NewHash(l.Digest.String())
		if err != nil {
			return PushResult{}, err
		}
		diff, err := v1.NewHash(l.DiffID.String())
		if err != nil {
			return PushResult{}, err
		}
		pi.layers[h] = &pushLayer{digest: h, diffID: diff, size: l.Size, path: l.Path}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.DockerLayer, Size: l.Size, Digest: h})
	}
	if pi.manifest, err = json.Marshal(m); err != nil {
		return PushResult{}, err
	}
	vimg, err := partial.CompressedToImage(pi)
	if err != nil {
		return PushResult{}, err
	}
	rt, err := s.transport(ref.Context().RegistryStr())
	if err != nil {
		return PushResult{}, err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(authenticator(auth)), remote.WithTransport(rt)}
	for i, l := range layers {
		id := shortDigest(img.Layers[i])
		pl := pi.layers[mustHash(l.Digest.String())]
		if err := remote.WriteLayer(ref.Context(), pl, opts...); err != nil {
			return PushResult{}, classify(err, "pushing "+reference.FamiliarString(named))
		}
		out(Event{ID: id, Status: "Pushed"})
	}
	if err := remote.Write(ref, vimg, opts...); err != nil {
		return PushResult{}, classify(err, "pushing "+reference.FamiliarString(named))
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
	layers   map[v1.Hash]*pushLayer
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
}

func (l *pushLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *pushLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *pushLayer) Size() (int64, error)                { return l.size, nil }
func (l *pushLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
func (l *pushLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

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
