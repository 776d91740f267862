package server

import (
	"context"
	"io"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/api/types/berth"
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
	// ContainerSize reports the sizes size=1 asks for: the writable
	// layer's and the whole root filesystem's, in bytes.
	ContainerSize(ctx context.Context, name string) (rw, rootfs int64, err error)
	// ContainerLogs returns the messages selected and whether the container
	// has a TTY (raw output). The channel closes at the end of the log, or
	// when following ends (container stopped or ctx done).
	ContainerLogs(ctx context.Context, name string, opts LogsOptions) (<-chan LogMessage, bool, error)
	// ContainerAttach blocks until the attach session ends.
	ContainerAttach(ctx context.Context, name string, opts AttachOptions) error
	ContainerResize(ctx context.Context, name string, height, width uint) error
	ContainerRename(ctx context.Context, oldName, newName string) error
	// ContainerChanges lists the changes of the container's writable layer.
	ContainerChanges(ctx context.Context, name string) ([]containertypes.FilesystemChange, error)
	// ContainerExport returns a tar stream of the container's filesystem;
	// the caller closes it.
	ContainerExport(ctx context.Context, name string) (io.ReadCloser, error)
	// ContainerCommit makes an image of the container and returns its ID.
	ContainerCommit(ctx context.Context, name string, opts backend.CommitOptions) (string, error)
	ContainersPrune(ctx context.Context, filters Filters) (*containertypes.PruneReport, error)
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
	ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error)
	// ImageSave writes the images as a docker-save archive to w.
	ImageSave(ctx context.Context, names []string, w io.Writer) error
	ImagesPrune(ctx context.Context, filters Filters) (*image.PruneReport, error)
	// ImagePull pulls from a registry, writing progress messages to out;
	// an error before the first message is the request's error.
	ImagePull(ctx context.Context, fromImage, tag, platform, authHeader string, out func(jsonstream.Message) error) error
	// ImagePush pushes to a registry, writing progress messages to out.
	ImagePush(ctx context.Context, name, tag, authHeader string, out func(jsonstream.Message) error) error
	// RegistryLogin checks credentials against a registry.
	RegistryLogin(ctx context.Context, auth registry.AuthConfig) error
}

// VolumeBackend holds the volume use cases.
type VolumeBackend interface {
	VolumeCreate(ctx context.Context, req volume.CreateRequest) (*volume.Volume, error)
	VolumeList(ctx context.Context, filters Filters) ([]*volume.Volume, error)
	VolumeInspect(ctx context.Context, name string) (*volume.Volume, error)
	VolumeRemove(ctx context.Context, name string, force bool) error
	VolumesPrune(ctx context.Context, filters Filters) (*volume.PruneReport, error)
}

// SystemBackend answers /info and /version.
type SystemBackend interface {
	SystemInfo(ctx context.Context) (*system.Info, error)
	SystemVersion(ctx context.Context) system.VersionResponse
	SystemDiskUsage(ctx context.Context) (*backend.DiskUsage, error)
}

// ExecBackend runs commands in running containers (docker exec).
type ExecBackend interface {
	ContainerExecCreate(ctx context.Context, name string, req *containertypes.ExecCreateRequest) (string, error)
	// ContainerExecStart blocks until an attached session ends; detached,
	// it returns once the process runs.
	ContainerExecStart(ctx context.Context, id string, opts backend.ExecStartOptions) error
	ContainerExecInspect(ctx context.Context, id string) (*containertypes.ExecInspectResponse, error)
	ContainerExecResize(ctx context.Context, id string, height, width uint) error
}

// ProcessBackend pauses containers and reports on their processes (docker
// pause, unpause, top, stats).
type ProcessBackend interface {
	ContainerPause(ctx context.Context, name string) error
	ContainerUnpause(ctx context.Context, name string) error
	ContainerTop(ctx context.Context, name, psArgs string) (*containertypes.TopResponse, error)
	// ContainerStats calls emit for each sample; see backend.StatsOptions.
	ContainerStats(ctx context.Context, name string, opts backend.StatsOptions, emit func(*containertypes.StatsResponse) error) error
}

// ArchiveBackend copies files from and into containers (docker cp).
type ArchiveBackend interface {
	ContainerStatPath(ctx context.Context, name, path string) (*containertypes.PathStat, error)
	// ContainerArchivePath returns a tar stream of path; the caller closes it.
	ContainerArchivePath(ctx context.Context, name, path string) (io.ReadCloser, *containertypes.PathStat, error)
	ContainerExtractToDir(ctx context.Context, name, path string, copyUIDGID, noOverwriteDirNonDir bool, content io.Reader) error
}

// NetworkBackend manages networks, including Docker's predefined ones.
type NetworkBackend interface {
	NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error)
	NetworkList(ctx context.Context, filters Filters) ([]network.Summary, error)
	NetworkInspect(ctx context.Context, ref string) (*network.Inspect, error)
	NetworkRemove(ctx context.Context, ref string) error
	NetworkConnect(ctx context.Context, ref, container string, endpoint *network.EndpointSettings) error
	NetworkDisconnect(ctx context.Context, ref, container string, force bool) error
	// NetworkPrune removes the unused user networks and names them.
	NetworkPrune(ctx context.Context, filters Filters) ([]string, error)
}

// EventsBackend is the daemon's event bus.
type EventsBackend interface {
	// Events returns the past events selected by filters (since and until
	// bound them; a zero since means none) and a channel of the future ones;
	// cancel ends the subscription and closes the channel.
	Events(ctx context.Context, since, until time.Time, filters Filters) (past []eventtypes.Message, live <-chan eventtypes.Message, cancel func(), err error)
}

// TmpfsUsageBackend reports the tmpfs mounts of a running container with
// their usage, for the "Berth" object of container inspect responses.
type TmpfsUsageBackend interface {
	// ContainerTmpfsUsage returns one entry per tmpfs mount; a container
	// that is not running is an errdefs.ErrConflict.
	ContainerTmpfsUsage(ctx context.Context, name string) ([]berth.TmpfsUsage, error)
	// ContainerProduction reports what the production mode applied to the
	// container at create; nil when it applied nothing.
	ContainerProduction(ctx context.Context, name string) (*berth.Production, error)
	// ContainerWrites reports the entries of the container's writable
	// layer and the bytes in its volumes (GET /containers/{id}/berth/writes).
	ContainerWrites(ctx context.Context, name string) (*berth.Writes, error)
}

// Backend is everything the API server needs of the daemon. It is one
// interface, not optional ones found by type assertion, so that a method
// whose signature drifts is a compile error in cmd/berthd rather than a
// silent 501 at run time.
type Backend interface {
	ContainerBackend
	ImageBackend
	VolumeBackend
	SystemBackend
	ExecBackend
	ProcessBackend
	ArchiveBackend
	NetworkBackend
	EventsBackend
	TmpfsUsageBackend
	UpdateBackend
}

// UpdateBackend changes the resource limits and restart policy of a
// container (docker update).
type UpdateBackend interface {
	ContainerUpdate(ctx context.Context, name string, upd *containertypes.UpdateConfig) (containertypes.UpdateResponse, error)
}
