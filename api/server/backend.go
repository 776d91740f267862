package server

import (
	"context"
	"io"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/types/backend"
)

// The option types live in api/types/backend; these aliases keep the
// server's own code short.
type (
	Filters       = backend.Filters
	ListOptions   = backend.ListOptions
	LogsOptions   = backend.LogsOptions
	LogMessage    = backend.LogMessage
	AttachStreams = backend.AttachStreams
	AttachOptions = backend.AttachOptions
)

// ContainerBackend holds the container use cases.
type ContainerBackend interface {
	ContainerCreate(ctx context.Context, name string, cfg *containertypes.Config, hc *containertypes.HostConfig, nc *network.NetworkingConfig) (containertypes.CreateResponse, error)
	ContainerStart(ctx context.Context, name string) error
	ContainerStop(ctx context.Context, name string, timeout *int, signal string) error
	ContainerKill(ctx context.Context, name, signal string) error
	ContainerRestart(ctx context.Context, name string, timeout *int) error
	ContainerRemove(ctx context.Context, name string, force, removeVolumes bool) error
	// ContainerWait returns once the condition is registered; the channel
	// delivers the result when the condition is met.
	ContainerWait(ctx context.Context, name string, cond containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error)
	ContainerList(ctx context.Context, opts ListOptions) ([]containertypes.Summary, error)
	ContainerInspect(ctx context.Context, name string) (*containertypes.InspectResponse, error)
	// ContainerLogs returns the messages selected and whether the container
	// has a TTY (raw output). The channel closes at the end of the log, or
	// when following ends (container stopped or ctx done).
	ContainerLogs(ctx context.Context, name string, opts LogsOptions) (<-chan LogMessage, bool, error)
	// ContainerAttach blocks until the attach session ends.
	ContainerAttach(ctx context.Context, name string, opts AttachOptions) error
	ContainerResize(ctx context.Context, name string, height, width uint) error
}

// ImageBackend holds the image use cases.
type ImageBackend interface {
	// ImageLoad loads a docker-save or OCI image-layout archive and returns
	// the references (or IDs for untagged images) it loaded.
	ImageLoad(ctx context.Context, r io.Reader) ([]string, error)
	// ImageImport makes a one-layer image of a rootfs tar; ref may be empty.
	ImageImport(ctx context.Context, r io.Reader, ref, message string, changes []string) (string, error)
	ImageList(ctx context.Context, all bool, filters Filters) ([]image.Summary, error)
	ImageInspect(ctx context.Context, name string) (*image.InspectResponse, error)
	ImageDelete(ctx context.Context, name string, force, prune bool) ([]image.DeleteResponse, error)
	ImageTag(ctx context.Context, source, ref string) error
}

// VolumeBackend holds the volume use cases.
type VolumeBackend interface {
	VolumeCreate(ctx context.Context, req volume.CreateRequest) (*volume.Volume, error)
	VolumeList(ctx context.Context, filters Filters) ([]*volume.Volume, error)
	VolumeInspect(ctx context.Context, name string) (*volume.Volume, error)
	VolumeRemove(ctx context.Context, name string, force bool) error
}

// SystemBackend answers /info and /version.
type SystemBackend interface {
	SystemInfo(ctx context.Context) (*system.Info, error)
	SystemVersion(ctx context.Context) system.VersionResponse
}

// Backend is everything the API server needs of the daemon.
type Backend interface {
	ContainerBackend
	ImageBackend
	VolumeBackend
	SystemBackend
}
