// Package mountspec resolves the mounts of a create request (--tmpfs,
// --mount, -v/Binds, Config.Volumes and the image's VOLUMEs) into the
// container's typed mounts, refusing bad input and duplicate mount points
// with Docker's messages.
//
// It is pure: the image is read through the small ImageFS interface, the
// daemon's settings arrive as a Policy parsed once at startup, and nothing
// here touches the host (the daemon checks that bind sources exist).
package mountspec

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"

	"github.com/containerd/errdefs"
	units "github.com/docker/go-units"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/pkg/tmpfsopt"
)

var errInvalid = errdefs.ErrInvalidArgument

// ImageFS answers what the resolution needs to know about the image.
type ImageFS interface {
	// Attrs returns the attributes of the absolute path p in the image;
	// with follow, a final symbolic link is resolved inside the image. A
	// missing path is an error that wraps fs.ErrNotExist.
	Attrs(p string, follow bool) (Attrs, error)
	// LookupUser and LookupGroup resolve a name in the image's /etc/passwd
	// and /etc/group.
	LookupUser(name string) (int, error)
	LookupGroup(name string) (int, error)
}

// Attrs are the attributes of one path in the image.
type Attrs struct {
	Type     fs.FileMode // fs.ModeDir, fs.ModeSymlink, ...; 0 for a file
	Perm     uint32      // permission bits with setuid, setgid and sticky (07777)
	UID, GID int
}

// Policy is the daemon's tmpfs policy, parsed once from its configuration.
type Policy struct {
	// DefaultSize is the size in bytes of a tmpfs that sets none; 0: none.
	DefaultSize int64
	// MaxSize is the largest tmpfs allowed, in bytes; 0: no limit.
	MaxSize int64
	// MaxSizeText is MaxSize as configured ("16m"), for messages.
	MaxSizeText string
	// CopyUp is the copy-up default (tmpcopyup/notmpcopyup override it).
	CopyUp bool
	// PageSize is the kernel's page size: nr_blocks counts pages.
	PageSize int64
	// KernelSupports reports whether the kernel accepts a newer tmpfs
	// option (see tmpfsopt.KernelSupports); nil accepts all.
	KernelSupports func(option string) bool
}

// NewPolicy parses the daemon's --default-tmpfs-size, --max-tmpfs-size
// and --tmpfs-copyup settings (sizes as `64m`, "" for none) for the
// running kernel.
func NewPolicy(defaultSize, maxSize string, copyUp bool) (Policy, error) {
	p := Policy{MaxSizeText: maxSize, CopyUp: copyUp, PageSize: int64(os.Getpagesize()), KernelSupports: tmpfsopt.KernelSupports}
	for _, s := range []struct {
		name, value string
		dst         *int64
	}{{"default-tmpfs-size", defaultSize, &p.DefaultSize}, {"max-tmpfs-size", maxSize, &p.MaxSize}} {
		if s.value == "" {
			continue
		}
		n, err := units.RAMInBytes(s.value)
		if err != nil || n <= 0 {
			return Policy{}, fmt.Errorf("%s: invalid size %q: want a positive size such as 64m: %w", s.name, s.value, errInvalid)
		}
		*s.dst = n
	}
	if p.MaxSize > 0 && p.DefaultSize > p.MaxSize {
		return Policy{}, fmt.Errorf("default-tmpfs-size %s is larger than max-tmpfs-size %s: %w", defaultSize, maxSize, errInvalid)
	}
	return p, nil
}

// Request is what a create request says about mounts.
type Request struct {
	// Config is the request's Config merged with the image's: its Volumes
	// hold the image's VOLUMEs too.
	Config *containertypes.Config
	// Requested is the request's own Config, before the merge (may be nil).
	Requested *containertypes.Config
	// HostConfig holds Binds, Mounts and Tmpfs.
	HostConfig *containertypes.HostConfig
	// DefaultTmpfs are tmpfs the request did not ask for (the production
	// mode's labels and defaults): each is added unless the request mounts
	// something at its path, and is checked like a --tmpfs.
	DefaultTmpfs []DefaultTmpfs
}

// DefaultTmpfs is one tmpfs added by default.
type DefaultTmpfs struct {
	Destination string
	Options     string // --tmpfs syntax
	// Origin names where it comes from, for errors and inspect.
	Origin string
}

// Resolve turns Binds, Mounts, Tmpfs and the volumes into typed mounts,
// refusing any duplicate destination. Errors are errdefs.ErrInvalidArgument
// with Docker's messages where Docker has one.
func Resolve(req Request, img ImageFS, policy Policy) ([]container.Mount, error) {
	hc := req.HostConfig
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	var out []container.Mount
	seen := map[string]bool{}
	add := func(m container.Mount, err error) error {
		if err != nil {
			return err
		}
		if seen[m.Destination] {
			return fmt.Errorf("Duplicate mount point: %s: %w", m.Destination, errInvalid)
		}
		seen[m.Destination] = true
		out = append(out, m)
		return nil
	}
	for _, b := range hc.Binds {
		if err := add(parseBind(b)); err != nil {
			return nil, err
		}
	}
	for _, spec := range hc.Mounts {
		if err := add(apiMount(spec, img, policy)); err != nil {
			return nil, err
		}
	}
	for _, p := range sortedKeys(hc.Tmpfs) {
		if err := add(cliTmpfs(p, hc.Tmpfs[p], img, policy)); err != nil {
			return nil, err
		}
	}
	for _, dt := range req.DefaultTmpfs {
		dst, err := destination(dt.Destination)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dt.Origin, err)
		}
		if seen[dst] || requestedVolume(req.Requested, dst) {
			continue
		}
		m, err := cliTmpfs(dst, dt.Options, img, policy)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dt.Origin, err)
		}
		m.Origin = dt.Origin
		seen[dst] = true
		out = append(out, m)
	}
	// Image and anonymous volumes, unless an explicit mount already covers
	// the path: a tmpfs, bind or named volume replaces the anonymous volume,
	// as in Docker (its anonymous volumes skip a destination that is already
	// mounted; compose sends every volume of a service in Config.Volumes
	// too, and `-v /p --tmpfs /p` gives a tmpfs).
	var vols map[string]struct{}
	if req.Config != nil {
		vols = req.Config.Volumes
	}
	for _, v := range sortedKeys(vols) {
		dst, err := destination(v)
		if err != nil {
			return nil, err
		}
		if seen[dst] {
			continue
		}
		seen[dst] = true
		out = append(out, container.Mount{Type: container.MountVolume, Destination: dst, Anonymous: true, Driver: "local"})
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// destination checks and cleans a mount destination with Docker's messages.
func destination(p string) (string, error) {
	if p == "" || !path.IsAbs(p) {
		return "", fmt.Errorf("invalid mount path: '%s' mount path must be absolute: %w", p, errInvalid)
	}
	clean := path.Clean(p)
	if clean == "/" {
		return "", fmt.Errorf("invalid specification: destination can't be '/': %w", errInvalid)
	}
	return clean, nil
}

// requestedVolume reports whether the request's own Config.Volumes (what
// `-v /p` sends) has dst.
func requestedVolume(req *containertypes.Config, dst string) bool {
	if req == nil {
		return false
	}
	for v := range req.Volumes {
		if path.IsAbs(v) && path.Clean(v) == dst {
			return true
		}
	}
	return false
}
