package images

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/pkg/atomicfile"
)

// Import adds a one-layer image made from a rootfs tar (plain or
// compressed), like `docker import`. changes are Dockerfile instructions
// (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL,
// USER, VOLUME, WORKDIR) applied to an empty config; message becomes the
// image comment. ref, when not empty, is tagged to the new image.
func (s *Store) Import(ctx context.Context, r io.Reader, ref string, message string, changes []string) (*Image, error) {
	var refs []string
	if ref != "" {
		key, err := normalizeRef(ref)
		if err != nil {
			return nil, err
		}
		refs = append(refs, key)
	}
	var cfg dockerspec.DockerOCIImageConfig
	if err := applyChanges(&cfg, changes); err != nil {
		return nil, err
	}

	work, err := os.MkdirTemp(s.tmpDir(), "import-")
	if err != nil {
		return nil, fmt.Errorf("importing image: %w", err)
	}
	defer os.RemoveAll(work)
	layerDir, diffID, size, err := unpackSingleLayer(ctx, r, work, "importing image")
	if err != nil {
		return nil, err
	}

	created := time.Now().UTC()
	cf := configFile{
		DockerOCIImage: dockerspec.DockerOCIImage{
			Image: ocispec.Image{
				Created:  &created,
				Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
				RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
				History:  []ocispec.History{{Created: &created, Comment: message}},
			},
			Config: cfg,
		},
		Comment: message,
	}
	raw, err := json.Marshal(cf)
	if err != nil {
		return nil, err
	}
	img, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}

	p := s.newPlan(work)
	defer p.release()
	chainID := identity.ChainID([]digest.Digest{diffID}).String()
	if p.needLayer(chainID) {
		info := layerInfo{ChainID: chainID, DiffID: diffID.String(), Size: size}
		data, err := json.Marshal(info)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(layerDir, "layer.json"), data, 0o600); err != nil {
			return nil, err
		}
		p.pending[chainID] = &preparedLayer{dir: layerDir, info: info}
	}
	p.images = append(p.images, plannedImage{img: img, raw: raw, refs: refs})
	if err := p.commit(); err != nil {
		return nil, err
	}
	return s.Get(img.ID)
}

// unpackSingleLayer unpacks the layer tar r into a new directory under
// work (commit and import make one layer each); a failure names what was
// being done, or is the context's error when r was cut short by it.
func unpackSingleLayer(ctx context.Context, r io.Reader, work, what string) (string, digest.Digest, int64, error) {
	layerDir, err := os.MkdirTemp(work, "layer-")
	if err != nil {
		return "", "", 0, err
	}
	diffID, size, err := unpackLayer(ctxReader{ctx, r}, "", layerDir)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", 0, ctx.Err()
		}
		return "", "", 0, fmt.Errorf("%s: %w", what, err)
	}
	return layerDir, diffID, size, nil
}
