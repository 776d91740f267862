package images

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/pkg/atomicfile"
)

// BlobSource records that a registry repository holds a compressed blob
// of a layer, learnt from a pull or a push: what Docker keeps as its
// distribution metadata (v2metadata-by-diffid). Push uses it to skip
// blobs the target repository has and to mount blobs from another
// repository of the same registry instead of uploading them.
type BlobSource struct {
	Digest     digest.Digest `json:"digest"` // of the compressed blob
	Size       int64         `json:"size"`
	MediaType  string        `json:"mediaType"`
	Repository string        `json:"repository"` // normalized name, "host/path"
}

// maxBlobSources bounds the sources kept per layer (the newest are kept).
const maxBlobSources = 50

func (s *Store) distributionDir() string { return filepath.Join(s.root, "distribution") }

func (s *Store) sourcesPath(diffID digest.Digest) string {
	return filepath.Join(s.distributionDir(), diffID.Encoded()+".json")
}

// BlobSources returns the registry repositories known to hold a blob of
// the layer diffID, newest first.
func (s *Store) BlobSources(diffID string) []BlobSource {
	d := digest.Digest(diffID)
	if d.Validate() != nil {
		return nil
	}
	s.distMu.Lock()
	defer s.distMu.Unlock()
	return s.readSources(d)
}

func (s *Store) readSources(diffID digest.Digest) []BlobSource {
	data, err := os.ReadFile(s.sourcesPath(diffID))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			slog.Warn("reading layer distribution metadata", slog.String("layer", diffID.String()), slog.Any("error", err))
		}
		return nil
	}
	var srcs []BlobSource
	if err := json.Unmarshal(data, &srcs); err != nil {
		slog.Warn("dropping unreadable layer distribution metadata", slog.String("layer", diffID.String()), slog.Any("error", err))
		return nil
	}
	return slices.DeleteFunc(srcs, func(b BlobSource) bool { return b.Digest.Validate() != nil || b.Repository == "" })
}

// AddBlobSource records that src.Repository holds blob src.Digest of the
// layer diffID. The record is replaced atomically.
func (s *Store) AddBlobSource(diffID string, src BlobSource) error {
	d := digest.Digest(diffID)
	if err := d.Validate(); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid diff ID %q", diffID))
	}
	if err := src.Digest.Validate(); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid blob digest %q", src.Digest))
	}
	s.distMu.Lock()
	defer s.distMu.Unlock()
	srcs := addSource(s.readSources(d), src)
	data, err := json.Marshal(srcs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.distributionDir(), 0o700); err != nil {
		return err
	}
	return atomicfile.Replace(s.sourcesPath(d), data, 0o600)
}

// addSource puts src first, dropping an older record of the same blob in
// the same repository and the oldest beyond maxBlobSources.
func addSource(srcs []BlobSource, src BlobSource) []BlobSource {
	srcs = slices.DeleteFunc(srcs, func(b BlobSource) bool {
		return b.Digest == src.Digest && b.Repository == src.Repository
	})
	srcs = append([]BlobSource{src}, srcs...)
	if len(srcs) > maxBlobSources {
		srcs = srcs[:maxBlobSources]
	}
	return srcs
}

// pruneSources removes the records of layers no image has. Caller holds mu
// or runs before the store is shared.
func (s *Store) pruneSources() {
	entries, err := os.ReadDir(s.distributionDir())
	if err != nil {
		return
	}
	have := map[string]bool{}
	for _, l := range s.layers {
		have[strings.TrimPrefix(l.DiffID, "sha256:")] = true
	}
	for _, e := range entries {
		hex, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !have[hex] {
			_ = os.Remove(filepath.Join(s.distributionDir(), e.Name()))
		}
	}
}
