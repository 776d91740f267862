// Package registry talks to image registries through
// go-containerregistry: it resolves references the way Docker does,
// chooses the platform of a manifest list, checks credentials and hands
// the blobs of an image to the image store, which verifies and registers
// them.
package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	registrytypes "github.com/moby/moby/api/types/registry"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/daemon/images"
)

// Config is the registry part of the daemon's configuration.
type Config struct {
	// Insecure lists registries ("host:port") and CIDRs reached over plain
	// HTTP (or HTTPS without verification). 127.0.0.0/8 always is.
	Insecure []string
	// Mirrors are Docker Hub mirrors ("http[s]://host[:port]"), tried in
	// order before Docker Hub.
	Mirrors []string
	// CertsDirs hold per-registry certificates (DIR/HOST:PORT/); nil is
	// DefaultCertsDirs.
	CertsDirs []string
}

// Service resolves, pulls from and authenticates to registries.
type Service struct {
	insecureHosts map[string]bool
	insecureNets  []*net.IPNet
	certsDirs     []string
	mirrors       []string // hosts; plain HTTP ones are in insecureHosts
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	s := &Service{insecureHosts: map[string]bool{}, certsDirs: cfg.CertsDirs}
	if s.certsDirs == nil {
		s.certsDirs = DefaultCertsDirs
	}
	_, loop, _ := net.ParseCIDR("127.0.0.0/8")
	s.insecureNets = append(s.insecureNets, loop)
	for _, m := range cfg.Mirrors {
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("registry mirror %q is not an http(s)://host[:port] URL", m))
		}
		if u.Scheme == "http" {
			s.insecureHosts[u.Host] = true
		}
		s.mirrors = append(s.mirrors, u.Host)
	}
	for _, e := range cfg.Insecure {
		if _, n, err := net.ParseCIDR(e); err == nil {
			s.insecureNets = append(s.insecureNets, n)
			continue
		}
		if strings.Contains(e, "://") || strings.Contains(e, "/") {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("insecure registry %q is not a host[:port] or CIDR", e))
		}
		s.insecureHosts[e] = true
	}
	return s, nil
}

// isInsecure reports whether host ("host[:port]") may be reached without
// TLS verification.
func (s *Service) isInsecure(host string) bool {
	if s.insecureHosts[host] {
		return true
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if s.insecureHosts[h] {
		return true
	}
	ip := net.ParseIP(h)
	if ip == nil {
		if h != "localhost" {
			return false
		}
		ip = net.IPv4(127, 0, 0, 1)
	}
	for _, n := range s.insecureNets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// Normalize returns the full reference Docker would pull for ref and tag:
// "busybox" is "docker.io/library/busybox:latest"; a digest is kept.
func Normalize(ref, tag string) (reference.Named, error) {
	if tag != "" {
		if strings.HasPrefix(tag, "sha256:") {
			ref += "@" + tag
		} else {
			ref += ":" + tag
		}
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid reference format: %s: %v", ref, err))
	}
	return reference.TagNameOnly(named), nil
}

// mirrorRefs returns named on each mirror, for Docker Hub images.
func (s *Service) mirrorRefs(named reference.Named) []name.Reference {
	if reference.Domain(named) != "docker.io" {
		return nil
	}
	var refs []name.Reference
	for _, host := range s.mirrors {
		ref := host + "/" + reference.Path(named)
		if d, ok := named.(reference.Digested); ok {
			ref += "@" + d.Digest().String()
		} else if t, ok := named.(reference.Tagged); ok {
			ref += ":" + t.Tag()
		}
		var opts []name.Option
		if s.isInsecure(host) {
			opts = append(opts, name.Insecure)
		}
		r, err := name.ParseReference(ref, opts...)
		if err != nil {
			slog.Warn("skipping registry mirror", slog.String("mirror", host), slog.Any("error", err))
			continue
		}
		refs = append(refs, r)
	}
	return refs
}

// gcrRef converts a normalized reference for go-containerregistry.
func (s *Service) gcrRef(named reference.Named) (name.Reference, error) {
	var opts []name.Option
	if s.isInsecure(reference.Domain(named)) {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(named.String(), opts...)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return ref, nil
}

// DecodeAuth decodes an X-Registry-Auth header (base64url JSON
// AuthConfig). An empty header is anonymous.
func DecodeAuth(header string) (registrytypes.AuthConfig, error) {
	var ac registrytypes.AuthConfig
	if header == "" {
		return ac, nil
	}
	raw, err := base64.URLEncoding.DecodeString(header)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(header, "="))
	}
	if err != nil {
		return ac, errdefs.ErrInvalidArgument.WithMessage("invalid X-Registry-Auth header: " + err.Error())
	}
	if err := json.Unmarshal(raw, &ac); err != nil {
		return ac, errdefs.ErrInvalidArgument.WithMessage("invalid X-Registry-Auth header: " + err.Error())
	}
	return ac, nil
}

func authenticator(ac registrytypes.AuthConfig) authn.Authenticator {
	if ac.Username == "" && ac.Password == "" && ac.Auth == "" && ac.IdentityToken == "" && ac.RegistryToken == "" {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{
		Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken,
	})
}

// classify gives registry errors their errdefs class and a message that
// says what failed.
func classify(err error, what string) error {
	if cerr := certificateError(err); cerr != nil {
		return errdefs.ErrUnavailable.WithMessage(fmt.Sprintf(
			"%s: the registry's TLS certificate is not trusted: %v (add the CA that signed it as certs.d/HOST:PORT/ca.crt in /etc/docker or /etc/berth, or list the registry in insecure-registries)", what, cerr))
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusUnauthorized:
			return errdefs.ErrUnauthenticated.WithMessage(fmt.Sprintf("%s: unauthorized: authentication required (try `berth login`): %v", what, err))
		case http.StatusForbidden:
			return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("%s: access denied: %v", what, err))
		case http.StatusNotFound:
			return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("%s: not found: %v", what, err))
		}
	}
	if errdefs.IsCanceled(err) || errors.Is(err, context.Canceled) {
		return err
	}
	return errdefs.ErrUnavailable.WithMessage(fmt.Sprintf("%s: %v", what, err))
}

// Event is one progress message of a pull, in the words Docker uses.
type Event struct {
	ID      string // short blob digest, or "" for a status line
	Status  string
	Current int64
	Total   int64
}

// PullResult says what a pull did.
type PullResult struct {
	Image *images.Image
	Ref   string // the tag it set, familiar form, or ""
	Fresh bool   // the image was new to the store
}

// Pull fetches ref (normalized by Normalize) for platform ("" is the
// host's) into store, reporting progress to out.
func (s *Service) Pull(ctx context.Context, store *images.Store, named reference.Named, platform string, auth registrytypes.AuthConfig, out func(Event)) (PullResult, error) {
	ref, err := s.gcrRef(named)
	if err != nil {
		return PullResult{}, err
	}
	want := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	explicit := platform != ""
	if explicit {
		if want, err = ParsePlatform(platform); err != nil {
			return PullResult{}, err
		}
	}
	// Docker Hub images come from the first mirror that has them, else
	// from Docker Hub; credentials are only sent to Docker Hub itself.
	var desc *remote.Descriptor
	for _, m := range s.mirrorRefs(named) {
		rt, err := s.transport(m.Context().RegistryStr())
		if err != nil {
			return PullResult{}, err
		}
		desc, err = remote.Get(m, remote.WithContext(ctx), remote.WithTransport(rt))
		if err == nil {
			break
		}
		slog.Info("registry mirror failed, trying the next source", slog.String("mirror", m.Context().RegistryStr()), slog.Any("error", err))
	}
	if desc == nil {
		rt, err := s.transport(ref.Context().RegistryStr())
		if err != nil {
			return PullResult{}, err
		}
		desc, err = remote.Get(ref, remote.WithContext(ctx), remote.WithAuth(authenticator(auth)), remote.WithTransport(rt))
		if err != nil {
			return PullResult{}, pullError(err, named)
		}
	}
	tagged, isTagged := named.(reference.Tagged)
	if isTagged {
		out(Event{ID: tagged.Tag(), Status: "Pulling from " + reference.Path(named)})
	} else {
		out(Event{Status: "Pulling from " + reference.Path(named)})
	}
	var img v1.Image
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return PullResult{}, pullError(err, named)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return PullResult{}, pullError(err, named)
		}
		chosen, err := choosePlatform(im.Manifests, want)
		if err != nil {
			return PullResult{}, err
		}
		img, err = idx.Image(chosen.Digest)
		if err != nil {
			return PullResult{}, pullError(err, named)
		}
	case desc.MediaType.IsImage():
		img, err = desc.Image()
		if err != nil {
			return PullResult{}, pullError(err, named)
		}
	default:
		return PullResult{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s: unsupported manifest media type %q", reference.FamiliarString(named), desc.MediaType))
	}
	manifest, err := img.Manifest()
	if err != nil {
		return PullResult{}, pullError(err, named)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return PullResult{}, pullError(err, named)
	}
	if explicit {
		if err := checkConfigPlatform(rawConfig, want); err != nil {
			return PullResult{}, err
		}
	}
	ri := images.RemoteImage{
		ConfigDigest: digest.Digest(manifest.Config.Digest.String()),
		Config:       rawConfig,
		RepoDigest:   named.Name() + "@" + desc.Digest.String(),
	}
	if isTagged {
		ri.Ref = named.String()
	}
	for _, l := range manifest.Layers {
		if !isLayer(l.MediaType) {
			return PullResult{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s: unsupported layer media type %q", reference.FamiliarString(named), l.MediaType))
		}
		h := l.Digest
		ri.Layers = append(ri.Layers, images.RemoteLayer{
			Digest: digest.Digest(h.String()),
			Size:   l.Size,
			Open: func(ctx context.Context) (io.ReadCloser, error) {
				layer, err := img.LayerByDigest(h)
				if err != nil {
					return nil, pullError(err, named)
				}
				rc, err := layer.Compressed()
				if err != nil {
					return nil, pullError(err, named)
				}
				return rc, nil
			},
		})
		out(Event{ID: shortDigest(h.String()), Status: "Pulling fs layer"})
	}
	stored, fresh, err := store.AddRemote(ctx, ri, func(e images.LayerEvent) {
		out(Event{ID: shortDigest(e.Blob.String()), Status: e.Status, Current: e.Current, Total: e.Total})
	})
	if err != nil {
		return PullResult{}, err
	}
	// As Docker's distribution metadata: where each layer's blob is, so a
	// push to this registry can skip or mount it.
	for i, l := range manifest.Layers {
		if i >= len(stored.Layers) {
			break
		}
		if err := store.AddBlobSource(stored.Layers[i], images.BlobSource{
			Digest: digest.Digest(l.Digest.String()), Size: l.Size, MediaType: string(l.MediaType), Repository: named.Name(),
		}); err != nil {
			slog.Warn("recording where a layer was pulled from", slog.String("layer", stored.Layers[i]), slog.Any("error", err))
		}
	}
	res := PullResult{Image: stored, Fresh: fresh}
	if isTagged {
		res.Ref = reference.FamiliarString(named)
	}
	out(Event{Status: "Digest: " + desc.Digest.String()})
	return res, nil
}

func pullError(err error, named reference.Named) error {
	return classify(err, "pulling "+reference.FamiliarString(named))
}

func isLayer(mt types.MediaType) bool {
	s := string(mt)
	return strings.HasPrefix(s, "application/vnd.oci.image.layer.") ||
		strings.HasPrefix(s, "application/vnd.docker.image.rootfs.")
}

func shortDigest(d string) string {
	_, hex, _ := strings.Cut(d, ":")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}

// ParsePlatform parses "os/arch[/variant]" ("linux/amd64",
// "linux/arm/v7"); "linux" alone is this host's architecture.
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) > 3 || parts[0] == "" || slices.Contains(parts, "") {
		return ocispec.Platform{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid platform %q: want os/arch[/variant]", s))
	}
	p := ocispec.Platform{OS: parts[0], Architecture: runtime.GOARCH}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return normalizePlatform(p), nil
}

// normalizePlatform applies the aliases Docker knows.
func normalizePlatform(p ocispec.Platform) ocispec.Platform {
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	}
	if p.Architecture == "arm64" && p.Variant == "v8" {
		p.Variant = ""
	}
	return p
}

func formatPlatform(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// platformMatches reports whether got serves want: same OS and
// architecture, and the variant when want names one.
func platformMatches(want, got ocispec.Platform) bool {
	got = normalizePlatform(got)
	return want.OS == got.OS && want.Architecture == got.Architecture &&
		(want.Variant == "" || want.Variant == got.Variant)
}

// choosePlatform picks the first manifest of a list that matches want, as
// Docker does; none matching is an error naming the platform.
func choosePlatform(descs []v1.Descriptor, want ocispec.Platform) (v1.Descriptor, error) {
	for _, d := range descs {
		if d.Platform == nil {
			continue
		}
		p := ocispec.Platform{OS: d.Platform.OS, Architecture: d.Platform.Architecture, Variant: d.Platform.Variant}
		if platformMatches(want, p) {
			return d, nil
		}
	}
	return v1.Descriptor{}, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("no matching manifest for %s in the manifest list entries", formatPlatform(want)))
}

// checkConfigPlatform refuses a single-platform image whose config names
// another platform than the one asked for.
func checkConfigPlatform(raw []byte, want ocispec.Platform) error {
	var cfg ocispec.Image
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage("invalid image config: " + err.Error())
	}
	got := ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	if !platformMatches(want, got) {
		return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("image with reference was found but its platform (%s) does not match the specified platform (%s)", formatPlatform(normalizePlatform(got)), formatPlatform(want)))
	}
	return nil
}

// Login checks credentials against the registry at server ("" or a Docker
// Hub alias is Docker Hub) and returns the identity token, if any.
func (s *Service) Login(ctx context.Context, ac registrytypes.AuthConfig) error {
	host := ac.ServerAddress
	host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
	host = strings.TrimSuffix(strings.TrimSuffix(host, "/"), "/v1")
	switch host {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io":
		host = name.DefaultRegistry
	}
	var opts []name.Option
	if s.isInsecure(host) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid registry %q: %v", ac.ServerAddress, err))
	}
	base, err := s.transport(reg.RegistryStr())
	if err != nil {
		return err
	}
	rt, err := transport.NewWithContext(ctx, reg, authenticator(ac), base, nil)
	if err != nil {
		return classify(err, "login to "+host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return classify(err, "login to "+host)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return errdefs.ErrUnauthenticated.WithMessage(fmt.Sprintf("login to %s: unauthorized: incorrect username or password", host))
	default:
		return errdefs.ErrUnavailable.WithMessage(fmt.Sprintf("login to %s: registry answered %s", host, resp.Status))
	}
}

func digestOf(b []byte) string {
	return digest.FromBytes(b).String()
}
