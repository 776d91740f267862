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
	// runs (or is paused).
	Tmpfs []TmpfsUsage `json:"Tmpfs"`
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
