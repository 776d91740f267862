package images

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
	"github.com/moby/go-archive/compression"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// annotationImageName is containerd's annotation holding the full
// reference of an image in an OCI layout (written by `docker save` 25+).
const annotationImageName = "io.containerd.image.name"

// Docker media types that may appear in OCI layouts.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// loadEntry is one image found in an archive.
type loadEntry struct {
	config []byte
	layers []layerSource
	refs   []string // normalized
}

// layerSource is a layer file inside the extracted archive.
type layerSource struct {
	path   string        // relative to the archive root
	digest digest.Digest // blob digest to verify, if known
}

// Load reads a `docker save` archive (manifest.json) or an OCI image layout
// (oci-layout, index.json), optionally compressed, and adds its images.
// It returns the loaded references in familiar form ("busybox:latest"), or
// the image ID of images without one. On error nothing new is referenced.
func (s *Store) Load(ctx context.Context, r io.Reader) ([]string, error) {
	work, err := os.MkdirTemp(s.tmpDir(), "load-")
	if err != nil {
		return nil, fmt.Errorf("loading image: %w", err)
	}
	defer os.RemoveAll(work)

	src := filepath.Join(work, "archive")
	if err := os.Mkdir(src, 0o700); err != nil {
		return nil, err
	}
	if err := extractArchive(ctx, r, src); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(src)
	if err != nil {
		return nil, err
	}
	defer root.Close()

	var entries []loadEntry
	switch {
	case exists(root, "manifest.json"):
		entries, err = readDockerManifest(root)
	case exists(root, "index.json"):
		entries, err = readOCILayout(root)
	default:
		err = errdefs.ErrInvalidArgument.WithMessage("invalid image archive: neither manifest.json nor index.json found")
	}
	if err != nil {
		return nil, err
	}

	p := s.newPlan(work)
	defer p.release()
	var loaded []string
	for _, e := range entries {
		img, err := parseConfig(e.config)
		if err != nil {
			return nil, err
		}
		if len(img.Layers) != len(e.layers) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
				"invalid image archive: image %s has %d layers but its config lists %d diff IDs", img.ID, len(e.layers), len(img.Layers)))
		}
		for i, l := range e.layers {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			err := p.addLayer(img, i, l.digest, func() (io.ReadCloser, error) {
				f, err := root.Open(l.path)
				if err != nil {
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: layer %s: %v", l.path, err))
				}
				return f, nil
			})
			if err != nil {
				return nil, fmt.Errorf("loading layer %s: %w", l.path, err)
			}
		}
		p.images = append(p.images, plannedImage{img: img, raw: e.config, refs: e.refs})
		if len(e.refs) == 0 {
			loaded = append(loaded, img.ID)
		}
		for _, ref := range e.refs {
			loaded = append(loaded, FamiliarName(ref))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := p.commit(); err != nil {
		return nil, err
	}
	return loaded, nil
}

// extractArchive unpacks the (possibly compressed) outer archive into dir.
// Paths cannot escape dir; owners are not kept.
func extractArchive(ctx context.Context, r io.Reader, dir string) error {
	dec, err := compression.DecompressStream(ctxReader{ctx, r})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: %v", err))
	}
	defer dec.Close()
	if err := archive.Unpack(dec, dir, &archive.TarOptions{NoLchown: true}); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if isBadArchive(err) {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: %v", err))
		}
		return fmt.Errorf("extracting image archive: %w", err)
	}
	return nil
}

// isBadArchive tells archive content errors (malformed tar, paths escaping
// the destination) from I/O errors of the host. go-archive does not export
// its breakout error, hence the message checks.
func isBadArchive(err error) bool {
	if errors.Is(err, tar.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	// A hardlink whose target the layer does not hold (an absolute host
	// path is resolved inside the layer, where it is missing).
	var le *os.LinkError
	if errors.As(err, &le) && errors.Is(err, fs.ErrNotExist) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"path escapes from parent", "escapes root", "invalid entry name", "invalid hardlink target", "invalid whiteout entry"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// ctxReader stops a copy when the request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func exists(root *os.Root, name string) bool {
	_, err := root.Stat(name)
	return err == nil
}

func readJSON(root *os.Root, name string, v any) error {
	data, err := root.ReadFile(name)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: %v", err))
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: parsing %s: %v", name, err))
	}
	return nil
}

// dockerManifestEntry is one element of a `docker save` manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func readDockerManifest(root *os.Root) ([]loadEntry, error) {
	var manifest []dockerManifestEntry
	if err := readJSON(root, "manifest.json", &manifest); err != nil {
		return nil, err
	}
	var entries []loadEntry
	for _, m := range manifest {
		config, err := root.ReadFile(m.Config)
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: config %q: %v", m.Config, err))
		}
		e := loadEntry{config: config}
		for _, l := range m.Layers {
			e.layers = append(e.layers, layerSource{path: l})
		}
		for _, t := range m.RepoTags {
			ref, err := normalizeRef(t)
			if err != nil {
				return nil, fmt.Errorf("invalid image archive: tag %q: %w", t, err)
			}
			e.refs = append(e.refs, ref)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func readOCILayout(root *os.Root) ([]loadEntry, error) {
	var layout ocispec.ImageLayout
	if exists(root, ocispec.ImageLayoutFile) {
		if err := readJSON(root, ocispec.ImageLayoutFile, &layout); err != nil {
			return nil, err
		}
		if layout.Version != ocispec.ImageLayoutVersion {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unsupported OCI layout version %q", layout.Version))
		}
	}
	var index ocispec.Index
	if err := readJSON(root, "index.json", &index); err != nil {
		return nil, err
	}
	var entries []loadEntry
	for _, desc := range index.Manifests {
		e, err := readOCIImage(root, desc, 0)
		if err != nil {
			return nil, err
		}
		if ref := refFromAnnotations(desc.Annotations); ref != "" {
			norm, err := normalizeRef(ref)
			if err != nil {
				return nil, fmt.Errorf("invalid image archive: image name %q: %w", ref, err)
			}
			e.refs = append(e.refs, norm)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// refFromAnnotations returns the full reference an index entry names:
// containerd's image name, else the OCI ref name when it is a full
// reference rather than a bare tag.
func refFromAnnotations(a map[string]string) string {
	if name := a[annotationImageName]; name != "" {
		return name
	}
	name := a[ocispec.AnnotationRefName]
	if strings.ContainsAny(name, ":/") {
		return name
	}
	return ""
}

// readBlob reads a blob of the layout and checks its digest.
func readBlob(root *os.Root, desc ocispec.Descriptor) ([]byte, error) {
	path, err := blobPath(desc.Digest)
	if err != nil {
		return nil, err
	}
	data, err := root.ReadFile(path)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: blob %s: %v", desc.Digest, err))
	}
	if got := desc.Digest.Algorithm().FromBytes(data); got != desc.Digest {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: blob %s has digest %s", desc.Digest, got))
	}
	return data, nil
}

func blobPath(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: bad digest %q: %v", d, err))
	}
	return filepath.Join("blobs", d.Algorithm().String(), d.Encoded()), nil
}

// readOCIImage follows desc (an index or a manifest) to one image.
func readOCIImage(root *os.Root, desc ocispec.Descriptor, depth int) (loadEntry, error) {
	if depth > 4 {
		return loadEntry{}, errdefs.ErrInvalidArgument.WithMessage("invalid image archive: indexes nested too deeply")
	}
	data, err := readBlob(root, desc)
	if err != nil {
		return loadEntry{}, err
	}
	switch desc.MediaType {
	case ocispec.MediaTypeImageIndex, mediaTypeDockerManifestList:
		var index ocispec.Index
		if err := json.Unmarshal(data, &index); err != nil {
			return loadEntry{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: index %s: %v", desc.Digest, err))
		}
		chosen, err := choosePlatform(index.Manifests)
		if err != nil {
			return loadEntry{}, err
		}
		return readOCIImage(root, chosen, depth+1)
	case ocispec.MediaTypeImageManifest, mediaTypeDockerManifest:
	default:
		return loadEntry{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: unsupported manifest media type %q", desc.MediaType))
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return loadEntry{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: manifest %s: %v", desc.Digest, err))
	}
	config, err := readBlob(root, m.Config)
	if err != nil {
		return loadEntry{}, err
	}
	e := loadEntry{config: config}
	for _, l := range m.Layers {
		if !isLayerMediaType(l.MediaType) {
			return loadEntry{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image archive: unsupported layer media type %q", l.MediaType))
		}
		path, err := blobPath(l.Digest)
		if err != nil {
			return loadEntry{}, err
		}
		e.layers = append(e.layers, layerSource{path: path, digest: l.Digest})
	}
	return e, nil
}

// isLayerMediaType accepts tar layers, compressed or not (the compression
// is detected from the content).
func isLayerMediaType(mt string) bool {
	return strings.HasPrefix(mt, "application/vnd.oci.image.layer.") ||
		strings.HasPrefix(mt, "application/vnd.docker.image.rootfs.")
}

// choosePlatform picks the manifest for this host's architecture on
// linux, else the first real image (attestations have platform
// unknown/unknown), else the first entry.
func choosePlatform(descs []ocispec.Descriptor) (ocispec.Descriptor, error) {
	if len(descs) == 0 {
		return ocispec.Descriptor{}, errdefs.ErrInvalidArgument.WithMessage("invalid image archive: empty index")
	}
	for _, d := range descs {
		if p := d.Platform; p != nil && p.OS == "linux" && p.Architecture == runtime.GOARCH {
			return d, nil
		}
	}
	for _, d := range descs {
		if p := d.Platform; p == nil || p.OS != "unknown" {
			return d, nil
		}
	}
	return descs[0], nil
}
