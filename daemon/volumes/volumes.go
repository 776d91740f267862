// Package volumes is the store of local named volumes: directories under
// the data root that outlive the containers that mount them, or, with the
// local driver's options, a tmpfs or a bound host directory that is
// mounted on that directory while containers use it (see mount.go).
package volumes

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/pkg/atomicfile"
)

// MaxNameLength bounds a volume name: it names the volume's directory, and
// a longer name than the file system's NAME_MAX would fail there.
const MaxNameLength = 255

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// Volume is one local volume.
type Volume struct {
	Name      string
	CreatedAt time.Time
	Labels    map[string]string
	Anonymous bool
	// Options are the local driver's options as given (type, device, o),
	// shown by inspect as in Docker.
	Options map[string]string `json:",omitempty"`

	// mount is what Options mount, nil for a plain directory or when
	// the options no longer pass (mountErr says why).
	mount    *Mount
	mountErr error
}

// Store keeps volumes in root/<name>/_data with metadata in root/<name>/meta.json.
type Store struct {
	root   string
	checks Checks
	mu     sync.Mutex // guards vols, users, released, reconciled
	vols   map[string]*Volume
	// users are the containers that hold each mounted volume.
	users map[string]map[string]bool
	// released are the releases seen before Reconcile (see there).
	released   map[string]map[string]bool
	reconciled bool
}

// New opens the store at root; checks are applied to the options of tmpfs
// volumes, at create and again when the store is opened.
func New(root string, checks Checks) (*Store, error) {
	if err := os.MkdirAll(root, 0o701); err != nil {
		return nil, err
	}
	s := &Store{root: root, checks: checks, vols: map[string]*Volume{},
		users: map[string]map[string]bool{}, released: map[string]map[string]bool{}}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(root, e.Name(), "meta.json"))
		if err != nil {
			continue
		}
		var v Volume
		if json.Unmarshal(data, &v) == nil && v.Name == e.Name() {
			// Options were valid at create; a start reports it if
			// this kernel or the daemon's policy no longer takes them.
			v.mount, v.mountErr = ParseOptions(v.Name, v.Options, checks)
			s.vols[v.Name] = &v
		}
	}
	return s, nil
}

// Path is the directory containers mount for the volume.
func (s *Store) Path(name string) string { return filepath.Join(s.root, name, "_data") }

// Create makes a volume or returns the existing one of that name (as
// Docker does). An empty name makes an anonymous volume with a random name.
func (s *Store) Create(name, driver string, opts, labels map[string]string) (*Volume, bool, error) {
	if driver != "" && driver != "local" {
		return nil, false, fmt.Errorf("volume driver %q is not supported, only \"local\": %w", driver, errdefs.ErrInvalidArgument)
	}
	anonymous := name == ""
	if anonymous {
		var b [32]byte
		_, _ = rand.Read(b[:])
		name = hex.EncodeToString(b[:])
	}
	if len(name) > MaxNameLength {
		return nil, false, fmt.Errorf("volume name is too long: %d characters, the limit is %d: %w", len(name), MaxNameLength, errdefs.ErrInvalidArgument)
	}
	if !validName.MatchString(name) {
		return nil, false, fmt.Errorf("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path: %w", name, name, errdefs.ErrInvalidArgument)
	}
	m, err := ParseOptions(name, opts, s.checks)
	if err != nil {
		return nil, false, err
	}
	if m != nil && m.Type == "none" {
		// As Docker: the bound directory must exist when the volume
		// is created.
		st, err := os.Stat(m.Device)
		if err != nil {
			return nil, false, fmt.Errorf("volume option device=%s: %w", m.Device, errors.Join(err, errdefs.ErrInvalidArgument))
		}
		if !st.IsDir() {
			return nil, false, fmt.Errorf("volume option device=%s: not a directory: %w", m.Device, errdefs.ErrInvalidArgument)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.vols[name]; ok {
		if len(opts) > 0 && !maps.Equal(opts, v.Options) {
			return nil, false, fmt.Errorf("create %s: a volume of this name exists with other options: %w", name, errdefs.ErrConflict)
		}
		return v, false, nil
	}
	v := &Volume{Name: name, CreatedAt: time.Now().UTC().Truncate(time.Second), Labels: labels, Anonymous: anonymous, mount: m}
	if m != nil {
		v.Options = maps.Clone(opts)
	}
	if err := os.MkdirAll(s.Path(name), 0o755); err != nil {
		return nil, false, err
	}
	if err := atomicfile.WriteJSON(filepath.Join(s.root, name, "meta.json"), v, 0o600); err != nil {
		os.RemoveAll(filepath.Join(s.root, name))
		return nil, false, err
	}
	s.vols[name] = v
	return v, true, nil
}

// Get returns a volume by name.
func (s *Store) Get(name string) (*Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return nil, fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
	}
	return v, nil
}

// List returns all volumes sorted by name.
func (s *Store) List() []*Volume {
	s.mu.Lock()
	out := make([]*Volume, 0, len(s.vols))
	for _, v := range s.vols {
		out = append(out, v)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Remove deletes a volume and its data. The caller checks that no
// container uses it.
func (s *Store) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
	}
	if len(s.users[name]) > 0 {
		return fmt.Errorf("remove %s: volume is in use: %w", name, errdefs.ErrConflict)
	}
	if len(v.Options) > 0 {
		// Never delete through a mount: a bind volume's directory is
		// the user's host directory.
		if err := s.unmount(v); err != nil {
			return fmt.Errorf("remove %s: %w", name, err)
		}
	}
	if err := os.RemoveAll(filepath.Join(s.root, name)); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	delete(s.vols, name)
	return nil
}

// API returns the Engine API form of v.
func (s *Store) API(v *Volume) *volume.Volume {
	labels := v.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	opts := maps.Clone(v.Options)
	if opts == nil {
		opts = map[string]string{}
	}
	return &volume.Volume{
		Name:       v.Name,
		Driver:     "local",
		Mountpoint: s.Path(v.Name),
		CreatedAt:  v.CreatedAt.Format(time.RFC3339),
		Labels:     labels,
		Scope:      "local",
		Options:    opts,
	}
}
