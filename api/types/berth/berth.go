// Package berth holds the wire types of what Berth adds to Docker's Engine
// API responses, under Berth's own key so that Docker clients ignore it:
// GET /containers/{id}/json carries a top-level "Berth" object.
package berth

import (
	containertypes "github.com/moby/moby/api/types/container"
)

// InspectResponse is GET /containers/{id}/json as Berth serves it: Docker's
// response with Berth's extra information beside it.
type InspectResponse struct {
	containertypes.InspectResponse
	Berth *Info `json:"Berth,omitempty"`
}

// Info is the "Berth" object of a container's inspect response.
type Info struct {
	// Tmpfs lists the container's tmpfs mounts (--tmpfs and --mount
	// type=tmpfs) with their current usage; set only while the container
	// runs (or is paused); null otherwise.
	Tmpfs []TmpfsUsage `json:"Tmpfs"`
	// Production is what the production mode (io.berth.* labels, the
	// daemon's --read-only-default and --read-only-tmpfs) applied at
	// create; absent when it applied nothing.
	Production *Production `json:"Production,omitempty"`
}

// Production is what the production mode applied to a container.
type Production struct {
	// ReadOnly is whether the root filesystem is read-only.
	ReadOnly bool
	// ReadOnlyFrom names what decided it: "--read-only", "image label
	// io.berth.read-only", "container label io.berth.read-only", "daemon
	// --read-only-default"; "" when nothing but Docker's default did.
	ReadOnlyFrom string `json:",omitempty"`
	// Tmpfs are the tmpfs mounts added by labels or defaults.
	Tmpfs []ProductionTmpfs
}

// ProductionTmpfs is one tmpfs the production mode added.
type ProductionTmpfs struct {
	Destination string
	// Options are the merged mount options.
	Options string
	// From names the label or daemon setting that added it.
	From string
}

// TmpfsUsage is one tmpfs mount of a running container.
type TmpfsUsage struct {
	Destination string
	// SizeBytes is the size of the tmpfs as the kernel reports it (the
	// size= given, or the kernel's default of half the RAM).
	SizeBytes int64
	// UsedBytes is what the content of the tmpfs occupies now.
	UsedBytes int64
	// Mode is the permission bits of the tmpfs root in octal, e.g. "1777".
	Mode string
	// UID and GID own the tmpfs root.
	UID, GID int
	// CopyUp tells whether the image's content was copied into the tmpfs.
	CopyUp bool
	// Options are the mount options the tmpfs was mounted with, merged with
	// the defaults (e.g. "noexec,nosuid,nodev,rprivate,size=64m").
	Options string
}

// Writes is GET /containers/{id}/berth/writes: what a container wrote, for
// `berth audit`.
type Writes struct {
	// Changes are the entries of the container's writable layer, paths
	// inside the container, parents before children; empty for a
	// read-only container.
	Changes []Write
	// Volumes are the container's volume mounts and the bytes they hold.
	Volumes []VolumeUsage
	// Truncated is set when the layer held more entries (or deeper ones)
	// than the daemon reports.
	Truncated bool `json:",omitempty"`
}

// Write is one entry of a container's writable layer.
type Write struct {
	// Path is absolute inside the container.
	Path string
	// Kind is "file", "dir", "symlink", "deleted" (a whiteout) or "other".
	Kind string
	// Size is the size of a regular file in bytes.
	Size int64
	// InImage tells whether the path exists in the image: a modified file
	// or a directory the layer holds because something below changed.
	InImage bool
}

// VolumeUsage is one volume mount of a container.
type VolumeUsage struct {
	Destination string
	Name        string
	Anonymous   bool
	// Bytes is the total size of the regular files in the volume.
	Bytes int64
}
