package images

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/pkg/atomicfile"
)

// CommitOptions describe the image docker commit makes.
type CommitOptions struct {
	// Config is the new image's configuration (the container's), before
	// Changes are applied.
	Config  dockerspec.DockerOCIImageConfig
	Changes []string // Dockerfile instructions, as for Import
	Comment string
	Author  string
	// CreatedBy is the history entry's command (the container's).
	CreatedBy string
	Ref       string // tagged to the new image when not empty
}

// Commit adds an image made of parent's layers and, when layer is not
// nil, one more layer from that tar stream (a container's writable layer,
// AUFS whiteouts), with the configuration of opts.
func (s *Store) Commit(ctx context.Context, parentID string, layer io.Reader, opts CommitOptions) (*Image, error) {
	parent, err := s.Get(parentID)
	if err != nil {
		return nil, err
	}
	var refs []string
	if opts.Ref != "" {
		key, err := normalizeRef(opts.Ref)
		if err != nil {
			return nil, err
		}
		refs = append(refs, key)
	}
	cfg := opts.Config
	if err := applyChanges(&cfg, opts.Changes); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(s.tmpDir(), "commit-")
	if err != nil {
		return nil, fmt.Errorf("committing image: %w", err)
	}
	defer os.RemoveAll(work)

	created := time.Now().UTC()
	img := parent.Config
	img.Created = &created
	img.Author = opts.Author
	img.Platform.OS = "linux"
	img.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: slices.Clone(parent.Config.RootFS.DiffIDs)}
	img.History = append(slices.Clone(parent.Config.History), ocispec.History{
		Created:    &created,
		CreatedBy:  opts.CreatedBy,
		Author:     opts.Author,
		Comment:    opts.Comment,
		EmptyLayer: layer == nil,
	})

	p := s.newPlan(work)
	defer p.release()
	if layer != nil {
		layerDir, diffID, size, err := unpackSingleLayer(ctx, layer, work, "committing image")
		if err != nil {
			return nil, err
		}
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, diffID)
		chainID := identity.ChainID(slices.Clone(img.RootFS.DiffIDs)).String()
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
	}
	// The parent's layers are pinned so that a delete meanwhile keeps them.
	for _, c := range parent.chainIDs {
		p.needLayer(c)
	}
	raw, err := json.Marshal(configFile{
		DockerOCIImage: dockerspec.DockerOCIImage{Image: img, Config: cfg},
		Comment:        opts.Comment,
	})
	if err != nil {
		return nil, err
	}
	newImg, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	newImg.parent = parent.ID
	p.images = append(p.images, plannedImage{img: newImg, raw: raw, refs: refs})
	if err := p.commit(); err != nil {
		return nil, err
	}
	return s.Get(newImg.ID)
}

// ConfigOf returns the image configuration of img with its Docker
// extensions (healthcheck, shell, onbuild).
func ConfigOf(img *Image) dockerspec.DockerOCIImageConfig {
	return dockerspec.DockerOCIImageConfig{ImageConfig: img.Config.Config, DockerOCIImageConfigExt: img.ext}
}
