// Package container holds Berth's persisted model of a container: its
// configuration, its typed mounts and its state machine, and the store that
// finds containers by ID, ID prefix or name.
package container

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-project/berth/pkg/atomicfile"
	containertypes "github.com/moby/moby/api/types/container"
)

const configFile = "config.v2.json"

// Container is one container. Its exported fields are persisted; mu guards
// State and the fields the lifecycle changes (RestartCount, HasBeenStarted).
type Container struct {
	mu sync.Mutex

	ID      string
	Name    string // with Docker's leading "/"
	Created time.Time

	Path string
	Args []string

	Config     *containertypes.Config
	HostConfig *containertypes.HostConfig

	ImageID  string // "sha256:..."
	ImageRef string // what the user asked for
	// Layers are the image's unpacked layer directories, top first.
	Layers []string

	Mounts  []Mount
	Runtime string // runtime name or path
	// User is Config.User resolved in the image at create: the image and
	// the config never change, so start need not read them again.
	User ExecUser
	// ReadOnlyFrom says what decided whether the root filesystem is
	// read-only when it was not Docker's default: --read-only, a
	// production-mode label or daemon default (see daemon/prodmode).
	ReadOnlyFrom string `json:",omitempty"`

	// Log is the logging policy resolved at create.
	Log LogPolicy
	// Init runs the daemon's init as PID 1 (--init), decided at create:
	// its mount point must be in the mount point layer.
	Init bool `json:",omitempty"`

	State          State
	RestartCount   int
	HasBeenStarted bool

	// MountpointDir is the shared read-only layer of the container's mount
	// points; empty for a container that has its own (MountpointLayer).
	MountpointDir string `json:",omitempty"`
	// Root is the container's directory in the data root; not persisted.
	Root string `json:"-"`
}

// Lock and Unlock guard State and the lifecycle fields.
func (c *Container) Lock()   { c.mu.Lock() }
func (c *Container) Unlock() { c.mu.Unlock() }

// ReadonlyRootfs reports whether the container runs without a writable layer.
func (c *Container) ReadonlyRootfs() bool {
	return c.HostConfig != nil && c.HostConfig.ReadonlyRootfs
}

// Tty reports whether the container has a terminal.
func (c *Container) Tty() bool { return c.Config != nil && c.Config.Tty }

// Paths of the files in the container's directory.
func (c *Container) LogPath() string        { return filepath.Join(c.Root, c.ID+"-json.log") }
func (c *Container) HostsPath() string      { return filepath.Join(c.Root, "hosts") }
func (c *Container) HostnamePath() string   { return filepath.Join(c.Root, "hostname") }
func (c *Container) ResolvConfPath() string { return filepath.Join(c.Root, "resolv.conf") }
func (c *Container) ExitPath() string       { return filepath.Join(c.Root, "exit.json") }

// MountpointLayer is the read-only layer that holds the container's mount
// points; UpperDir and WorkDir are its writable layer (unused when
// read-only).
// A container created since mount-point layers are shared names its layer
// in MountpointDir (one per image and set of mount points, see
// daemon/mountpointlayer.go); an older one has its own in its directory.
func (c *Container) MountpointLayer() string {
	if c.MountpointDir != "" {
		return c.MountpointDir
	}
	return filepath.Join(c.Root, "mountpoints")
}
func (c *Container) UpperDir() string { return filepath.Join(c.Root, "rw", "upper") }
func (c *Container) WorkDir() string  { return filepath.Join(c.Root, "rw", "work") }

// ToDisk persists the container atomically. The first write (at create)
// is also durable; later ones, state changes on the hot path of start and
// exit, only replace the file atomically: after a power loss every
// container is stopped anyway and the state is reconciled at startup. The
// caller holds the lock or owns the container exclusively.
func (c *Container) ToDisk() error {
	p := filepath.Join(c.Root, configFile)
	write := atomicfile.ReplaceJSON
	if _, err := os.Stat(p); err != nil {
		write = atomicfile.WriteJSON
	}
	if err := write(p, c, 0o600); err != nil {
		return fmt.Errorf("save container %s: %w", c.ID, err)
	}
	return nil
}

// FromDisk reads a container persisted in dir.
func FromDisk(dir string) (*Container, error) {
	data, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return nil, err
	}
	c := &Container{}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(dir, configFile), err)
	}
	c.Root = dir
	return c, nil
}

// LogPolicy is how the container's output is stored: Driver "json-file"
// or "local" (both in Docker's json-file format) rotated at MaxSize bytes
// (0: never) keeping MaxFiles files, or "none". The zero value (a
// container from before log drivers) is json-file without rotation.
type LogPolicy struct {
	Driver   string `json:",omitempty"`
	MaxSize  int64  `json:",omitempty"`
	MaxFiles int    `json:",omitempty"`
}

// Reads reports whether `logs` can read what the driver stores.
func (p LogPolicy) Reads() bool { return p.Driver != "none" }

// ExecUser is the identity the container's process runs with.
type ExecUser struct {
	UID, GID       int
	AdditionalGids []int `json:",omitempty"`
	Home           string
}
