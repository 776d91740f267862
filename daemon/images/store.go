// Package images is Berth's image store: content-addressed image configs,
// the reference index, docker-save and OCI-layout loading, rootfs imports,
// and layers unpacked once on disk so overlayfs can stack them.
package images

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/image"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/pkg/atomicfile"
)

// Image is one image known to the store. Values returned by the store are
// copies: changing them does not change the store.
type Image struct {
	ID       string    // "sha256:<hex>" digest of the image config JSON
	RepoTags []string  // familiar references, e.g. "busybox:latest", sorted
	Created  time.Time // from the image config
	Config   ocispec.Image
	Layers   []string // diffIDs, bottom first
	Size     int64    // sum of the unpacked layer sizes in bytes

	chainIDs    []string // chain IDs of Layers, bottom first
	repoDigests []string // normalized "name@sha256:<manifest hex>", sorted
	comment     string
	ext         dockerspec.DockerOCIImageConfigExt
	lastTagTime time.Time
	parent      string // the image a commit was made on, as Docker records it
}

// layerInfo is persisted as layers/<chain hex>/layer.json.
type layerInfo struct {
	ChainID string `json:"chainID"`
	DiffID  string `json:"diffID"`
	Size    int64  `json:"size"`
}

// imageRecord is persisted as images/<hex>.json; its presence marks an
// image as committed (a config blob alone may be left by a failed load).
type imageRecord struct {
	LastTagTime time.Time `json:"lastTagTime,omitzero"`
	Parent      string    `json:"parent,omitempty"`
	RepoDigests []string  `json:"repoDigests,omitempty"`
}

// configFile is the on-disk image config: Docker's extension of the OCI
// config plus the legacy top-level comment written by `docker import`.
type configFile struct {
	dockerspec.DockerOCIImage
	Comment string `json:"comment,omitempty"`
}

// Store is the image store rooted at <data-root>/image.
//
// Layout under root:
//
//	blobs/sha256/<hex>          image config blobs
//	images/<hex>.json           committed images (metadata)
//	layers/<chain hex>/diff     unpacked layer, overlay whiteouts
//	layers/<chain hex>/layer.json
//	repositories.json           normalized "name:tag" -> image ID
//	distribution/<diff hex>.json registry repositories holding the layer's blobs
//	tmp/                        scratch space for loads and imports
//
// Layer directories are only created (by rename) and removed while mu is
// held for writing, so a layer seen in layers is complete.
type Store struct {
	root string

	mu     sync.RWMutex
	images map[string]*Image    // by ID; RepoTags is not maintained here
	refs   map[string]string    // normalized "name:tag" -> image ID
	layers map[string]layerInfo // by chain ID
	pins   map[string]int       // chain IDs an in-flight load relies on

	// inflight marks layers a pull is unpacking; the channel is closed
	// when it is committed or abandoned, so concurrent pulls of images
	// sharing a layer fetch it once.
	inflight map[string]chan struct{}

	distMu sync.Mutex // guards the distribution/ records (BlobSources)
}

// New opens (creating if needed) the store at root and loads its index.
// Leftovers of interrupted operations are removed.
func New(root string) (*Store, error) {
	s := &Store{
		root:   root,
		images: map[string]*Image{},
		refs:   map[string]string{},
		layers: map[string]layerInfo{},
		pins:   map[string]int{},

		inflight: map[string]chan struct{}{},
	}
	if err := os.RemoveAll(s.tmpDir()); err != nil {
		return nil, fmt.Errorf("cleaning image store scratch dir: %w", err)
	}
	for _, d := range []string{s.blobDir(), filepath.Join(root, "images"), filepath.Join(root, "layers"), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating image store: %w", err)
		}
	}
	if err := s.loadLayers(); err != nil {
		return nil, err
	}
	if err := s.loadImages(); err != nil {
		return nil, err
	}
	if err := s.loadRefs(); err != nil {
		return nil, err
	}
	s.collectGarbage()
	s.pruneSources()
	return s, nil
}

func (s *Store) tmpDir() string  { return filepath.Join(s.root, "tmp") }
func (s *Store) blobDir() string { return filepath.Join(s.root, "blobs", "sha256") }

func (s *Store) blobPath(id string) string {
	return filepath.Join(s.blobDir(), strings.TrimPrefix(id, "sha256:"))
}

func (s *Store) recordPath(id string) string {
	return filepath.Join(s.root, "images", strings.TrimPrefix(id, "sha256:")+".json")
}

func (s *Store) layerPath(chainID string) string {
	return filepath.Join(s.root, "layers", strings.TrimPrefix(chainID, "sha256:"))
}

func (s *Store) loadLayers() error {
	dir := filepath.Join(s.root, "layers")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading layers: %w", err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		var info layerInfo
		data, err := os.ReadFile(filepath.Join(p, "layer.json"))
		if err == nil {
			err = json.Unmarshal(data, &info)
		}
		if err != nil || strings.TrimPrefix(info.ChainID, "sha256:") != e.Name() {
			slog.Warn("removing incomplete layer", slog.String("layer", e.Name()), slog.Any("error", err))
			_ = os.RemoveAll(p)
			continue
		}
		s.layers[info.ChainID] = info
	}
	return nil
}

func (s *Store) loadImages() error {
	dir := filepath.Join(s.root, "images")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading images: %w", err)
	}
	for _, e := range entries {
		hex, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		id := "sha256:" + hex
		img, err := s.readImage(id)
		if err != nil {
			slog.Warn("dropping unreadable image", slog.String("image", id), slog.Any("error", err))
			_ = os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		s.images[id] = img
	}
	return nil
}

func (s *Store) readImage(id string) (*Image, error) {
	data, err := os.ReadFile(s.recordPath(id))
	if err != nil {
		return nil, err
	}
	var rec imageRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("parsing image record: %w", err)
	}
	raw, err := os.ReadFile(s.blobPath(id))
	if err != nil {
		return nil, err
	}
	img, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	if img.ID != id {
		return nil, fmt.Errorf("config blob digest %s does not match image ID", img.ID)
	}
	for _, c := range img.chainIDs {
		l, ok := s.layers[c]
		if !ok {
			return nil, fmt.Errorf("layer %s is missing", c)
		}
		img.Size += l.Size
	}
	img.lastTagTime = rec.LastTagTime
	img.parent = rec.Parent
	img.repoDigests = rec.RepoDigests
	return img, nil
}

func (s *Store) loadRefs() error {
	data, err := os.ReadFile(filepath.Join(s.root, "repositories.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading references: %w", err)
	}
	if err := json.Unmarshal(data, &s.refs); err != nil {
		return fmt.Errorf("parsing %s: %w", filepath.Join(s.root, "repositories.json"), err)
	}
	for ref, id := range s.refs {
		if _, ok := s.images[id]; !ok {
			slog.Warn("dropping reference to missing image", slog.String("ref", ref), slog.String("image", id))
			delete(s.refs, ref)
		}
	}
	return nil
}

// collectGarbage removes layers and blobs no committed image uses.
func (s *Store) collectGarbage() {
	used := map[string]bool{}
	for _, img := range s.images {
		for _, c := range img.chainIDs {
			used[c] = true
		}
	}
	for c := range s.layers {
		if !used[c] {
			slog.Info("removing unused layer", slog.String("layer", c))
			_ = os.RemoveAll(s.layerPath(c))
			delete(s.layers, c)
		}
	}
	blobs, err := os.ReadDir(s.blobDir())
	if err != nil {
		return
	}
	for _, b := range blobs {
		if _, ok := s.images["sha256:"+b.Name()]; !ok {
			_ = os.Remove(filepath.Join(s.blobDir(), b.Name()))
		}
	}
}

// parseConfig decodes an image config blob into an Image (without Size,
// RepoTags and tag time).
func parseConfig(raw []byte) (*Image, error) {
	var cf configFile
	if err := json.Unmarshal(raw, &cf); err != nil {
		return nil, fmt.Errorf("invalid image config: %w", errdefs.ErrInvalidArgument.WithMessage(err.Error()))
	}
	if cf.OS != "" && cf.OS != "linux" {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("image operating system %q cannot be used on this platform", cf.OS))
	}
	if cf.RootFS.Type != "layers" {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image config: rootfs type %q is not supported", cf.RootFS.Type))
	}
	img := &Image{
		ID:      digest.FromBytes(raw).String(),
		Config:  cf.Image,
		comment: cf.Comment,
		ext:     cf.DockerOCIImage.Config.DockerOCIImageConfigExt,
	}
	img.Config.Config = cf.DockerOCIImage.Config.ImageConfig
	if cf.Created != nil {
		img.Created = *cf.Created
	}
	for _, d := range cf.RootFS.DiffIDs {
		if err := d.Validate(); err != nil || d.Algorithm() != digest.SHA256 {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid image config: bad diff ID %q", d))
		}
		img.Layers = append(img.Layers, d.String())
	}
	for _, c := range identity.ChainIDs(slices.Clone(cf.RootFS.DiffIDs)) {
		img.chainIDs = append(img.chainIDs, c.String())
	}
	return img, nil
}

// Get resolves a reference ("busybox", "busybox:latest",
// "docker.io/library/busybox:latest"), a full ID ("sha256:<hex>"), a hex ID
// or a unique prefix of one. Unknown images (and ambiguous prefixes) give
// errdefs.ErrNotFound "No such image: ..."; strings that are neither a
// reference nor an ID give errdefs.ErrInvalidArgument.
func (s *Store) Get(refOrID string) (*Image, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	img, _, err := s.resolve(refOrID)
	if err != nil {
		return nil, err
	}
	return s.clone(img), nil
}

// resolve finds an image; ref is the normalized reference it matched, or
// "" when refOrID matched an ID. The caller holds mu.
func (s *Store) resolve(refOrID string) (img *Image, ref string, err error) {
	notFound := func(what string) error {
		return errdefs.ErrNotFound.WithMessage("No such image: " + what)
	}
	if hex, ok := strings.CutPrefix(refOrID, "sha256:"); ok {
		if !isHex(hex) {
			return nil, "", notFound(refOrID)
		}
		if img := s.byIDPrefix(hex); img != nil {
			return img, "", nil
		}
		return nil, "", notFound(refOrID)
	}
	key, perr := normalizeRef(refOrID)
	if perr == nil {
		if id, ok := s.refs[key]; ok {
			return s.images[id], key, nil
		}
	}
	if isHex(refOrID) {
		if img := s.byIDPrefix(refOrID); img != nil {
			return img, "", nil
		}
	}
	if dref, ok := normalizeDigestRef(refOrID); ok {
		for _, img := range s.images {
			if slices.Contains(img.repoDigests, dref) {
				return img, "", nil
			}
		}
		return nil, "", notFound(refOrID)
	}
	switch {
	case perr == nil:
		return nil, "", notFound(FamiliarName(key))
	case strings.Contains(refOrID, "@"):
		return nil, "", notFound(refOrID)
	default:
		return nil, "", perr
	}
}

// byIDPrefix returns the only image whose hex ID starts with prefix, or nil
// if there is none or several (Docker reports an ambiguous prefix as not
// found).
func (s *Store) byIDPrefix(prefix string) *Image {
	var found *Image
	for id, img := range s.images {
		if strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), prefix) {
			if found != nil {
				return nil
			}
			found = img
		}
	}
	return found
}

func isHex(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// tags returns the familiar references of image id, sorted. Caller holds mu.
func (s *Store) tags(id string) []string {
	tags := []string{}
	for ref, target := range s.refs {
		if target == id {
			tags = append(tags, FamiliarName(ref))
		}
	}
	slices.Sort(tags)
	return tags
}

// clone returns a copy of img safe to hand out. Caller holds mu.
func (s *Store) clone(img *Image) *Image {
	c := *img
	c.RepoTags = s.tags(img.ID)
	c.Layers = slices.Clone(img.Layers)
	c.chainIDs = slices.Clone(img.chainIDs)
	c.repoDigests = slices.Clone(img.repoDigests)
	cfg := &c.Config.Config
	cfg.Env = slices.Clone(cfg.Env)
	cfg.Cmd = slices.Clone(cfg.Cmd)
	cfg.Entrypoint = slices.Clone(cfg.Entrypoint)
	cfg.Labels = maps.Clone(cfg.Labels)
	cfg.Volumes = maps.Clone(cfg.Volumes)
	cfg.ExposedPorts = maps.Clone(cfg.ExposedPorts)
	c.Config.RootFS.DiffIDs = slices.Clone(c.Config.RootFS.DiffIDs)
	c.Config.History = slices.Clone(c.Config.History)
	return &c
}

// List returns all images, newest first.
func (s *Store) List() []*Image {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Image, 0, len(s.images))
	for _, img := range s.images {
		out = append(out, s.clone(img))
	}
	slices.SortFunc(out, func(a, b *Image) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Tag makes ref ("name[:tag]") point at the image source resolves to. A ref
// that pointed at another image is moved.
func (s *Store) Tag(source, ref string) error {
	key, err := normalizeRef(ref)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	img, _, err := s.resolve(source)
	if err != nil {
		return err
	}
	old, had := s.refs[key]
	s.refs[key] = img.ID
	if err := s.saveRefs(); err != nil {
		if had {
			s.refs[key] = old
		} else {
			delete(s.refs, key)
		}
		return err
	}
	img.lastTagTime = timeNow()
	if err := s.saveRecord(img); err != nil {
		slog.Warn("saving image tag time", slog.String("image", img.ID), slog.Any("error", err))
	}
	return nil
}

// Delete removes a reference or an image, following Docker's rules:
//   - by reference: the reference is removed; the image goes too when no
//     other reference remains and no container uses it. Removing the last
//     reference of an image a container uses needs force.
//   - by ID: all references are removed with the image. An image with
//     several references, or used by a container, needs force; a forced
//     delete of an image in use only removes its references, so the
//     container keeps its layers.
//
// inUse may be nil. Layers no other image uses are removed with the image.
func (s *Store) Delete(refOrID string, force bool, inUse func(imageID string) bool) ([]image.DeleteResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ref, err := s.resolve(refOrID)
	if err != nil {
		return nil, err
	}
	used := inUse != nil && inUse(img.ID)
	short := shortID(img.ID)
	refs := s.refsOf(img.ID)
	var records []image.DeleteResponse

	if dref, ok := normalizeDigestRef(refOrID); ok && slices.Contains(img.repoDigests, dref) {
		// A digest reference is removed like a tag: the image goes with
		// its last reference.
		last := len(refs) == 0 && len(img.repoDigests) == 1
		if used && !force && last {
			return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf(
				"conflict: unable to remove repository reference %q (must force) - container is using its referenced image %s", refOrID, short))
		}
		img.repoDigests = slices.DeleteFunc(img.repoDigests, func(d string) bool { return d == dref })
		if err := s.saveRecord(img); err != nil {
			img.repoDigests = append(img.repoDigests, dref)
			slices.Sort(img.repoDigests)
			return nil, err
		}
		records = append(records, image.DeleteResponse{Untagged: FamiliarName(dref)})
		if !last || used {
			return records, nil
		}
		return s.removeImage(img, records)
	}

	if ref != "" {
		if used && !force && len(refs) == 1 {
			return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf(
				"conflict: unable to remove repository reference %q (must force) - container is using its referenced image %s", refOrID, short))
		}
		if err := s.untag([]string{ref}, &records); err != nil {
			return nil, err
		}
		if len(refs) > 1 || used {
			return records, nil
		}
	} else {
		if used && !force {
			return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf(
				"conflict: unable to delete %s (must be forced) - image is being used by a container", short))
		}
		if len(refs) > 1 && !force {
			return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf(
				"conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", short))
		}
		if err := s.untag(refs, &records); err != nil {
			return nil, err
		}
		if used {
			return records, nil
		}
	}
	return s.removeImage(img, records)
}

func shortID(id string) string {
	hex := strings.TrimPrefix(id, "sha256:")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}

// refsOf returns the normalized references to id, sorted. Caller holds mu.
func (s *Store) refsOf(id string) []string {
	var refs []string
	for ref, target := range s.refs {
		if target == id {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	return refs
}

// untag removes refs and persists the index. Caller holds mu.
func (s *Store) untag(refs []string, records *[]image.DeleteResponse) error {
	if len(refs) == 0 {
		return nil
	}
	saved := maps.Clone(s.refs)
	for _, r := range refs {
		delete(s.refs, r)
	}
	if err := s.saveRefs(); err != nil {
		s.refs = saved
		return err
	}
	for _, r := range refs {
		*records = append(*records, image.DeleteResponse{Untagged: FamiliarName(r)})
	}
	return nil
}

// removeImage deletes an unreferenced image and the layers only it used.
// Caller holds mu.
func (s *Store) removeImage(img *Image, records []image.DeleteResponse) ([]image.DeleteResponse, error) {
	if err := os.Remove(s.recordPath(img.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return records, fmt.Errorf("removing image %s: %w", img.ID, err)
	}
	delete(s.images, img.ID)
	_ = os.Remove(s.blobPath(img.ID))
	// As Docker, the digest references go with the image's last tag.
	for _, d := range img.repoDigests {
		records = append(records, image.DeleteResponse{Untagged: FamiliarName(d)})
	}
	records = append(records, image.DeleteResponse{Deleted: img.ID})

	used := map[string]bool{}
	for _, other := range s.images {
		for _, c := range other.chainIDs {
			used[c] = true
		}
	}
	for i := len(img.chainIDs) - 1; i >= 0; i-- {
		c := img.chainIDs[i]
		if used[c] || s.pins[c] > 0 {
			continue
		}
		if err := s.removeLayer(c); err != nil {
			slog.Warn("removing layer", slog.String("layer", c), slog.Any("error", err))
			continue
		}
		records = append(records, image.DeleteResponse{Deleted: c})
	}
	return records, nil
}

// removeLayer moves the layer out of layers/ atomically, then deletes it.
// Caller holds mu.
func (s *Store) removeLayer(chainID string) error {
	trash, err := os.MkdirTemp(s.tmpDir(), "rm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(trash)
	if err := os.Rename(s.layerPath(chainID), filepath.Join(trash, "layer")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	delete(s.layers, chainID)
	return nil
}

// LayerDirs returns the absolute directories of the image's unpacked
// layers, top layer first, in the order overlayfs expects for lowerdir.
func (s *Store) LayerDirs(img *Image) []string {
	chain := img.chainIDs
	if len(chain) != len(img.Layers) {
		chain = nil
		var diffIDs []digest.Digest
		for _, l := range img.Layers {
			diffIDs = append(diffIDs, digest.Digest(l))
		}
		for _, c := range identity.ChainIDs(diffIDs) {
			chain = append(chain, c.String())
		}
	}
	dirs := make([]string, 0, len(chain))
	for i := len(chain) - 1; i >= 0; i-- {
		dirs = append(dirs, filepath.Join(s.layerPath(chain[i]), "diff"))
	}
	return dirs
}

// Inspect returns the Engine API view of img (GET /images/{name}/json).
func (s *Store) Inspect(img *Image) image.InspectResponse {
	cfg := dockerspec.DockerOCIImageConfig{ImageConfig: img.Config.Config, DockerOCIImageConfigExt: img.ext}
	resp := image.InspectResponse{
		ID:           img.ID,
		RepoTags:     nonNil(img.RepoTags),
		RepoDigests:  familiarAll(img.repoDigests),
		Comment:      img.comment,
		Author:       img.Config.Author,
		Config:       &cfg,
		Architecture: img.Config.Architecture,
		Variant:      img.Config.Variant,
		Os:           img.Config.OS,
		OsVersion:    img.Config.OSVersion,
		Size:         img.Size,
		RootFS:       image.RootFS{Type: "layers", Layers: slices.Clone(img.Layers)},
		Metadata:     image.Metadata{LastTagTime: img.lastTagTime},
	}
	if !img.Created.IsZero() {
		resp.Created = img.Created.UTC().Format(time.RFC3339Nano)
	}
	return resp
}

// Summary returns the Engine API list entry for img (GET /images/json).
// Containers and SharedSize are -1 (not computed), as in Docker.
func (s *Store) Summary(img *Image) image.Summary {
	return image.Summary{
		Containers:  -1,
		Created:     img.Created.Unix(),
		ID:          img.ID,
		Labels:      maps.Clone(img.Config.Config.Labels),
		RepoDigests: familiarAll(img.repoDigests),
		RepoTags:    nonNil(img.RepoTags),
		SharedSize:  -1,
		Size:        img.Size,
	}
}

// familiarAll returns the familiar forms of normalized references, never nil.
func familiarAll(refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, FamiliarName(r))
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func (s *Store) saveRefs() error {
	data, err := json.MarshalIndent(s.refs, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(s.root, "repositories.json"), data, 0o600)
}

func (s *Store) saveRecord(img *Image) error {
	data, err := json.Marshal(imageRecord{LastTagTime: img.lastTagTime, Parent: img.parent, RepoDigests: img.repoDigests})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.recordPath(img.ID), data, 0o600)
}

// syncDir makes the entries of dir (a rename into it) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// timeNow is the clock for tag times.
var timeNow = func() time.Time { return time.Now().UTC() }
