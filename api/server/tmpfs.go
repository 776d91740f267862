package server

import (
	"context"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/api/types/berth"
)

// TmpfsUsageBackend reports the tmpfs mounts of a running container with
// their usage. A backend that implements it gets the "Berth" object in
// container inspect responses.
type TmpfsUsageBackend interface {
	// ContainerTmpfsUsage returns one entry per tmpfs mount; a container
	// that is not running is an errdefs.ErrConflict.
	ContainerTmpfsUsage(ctx context.Context, name string) ([]berth.TmpfsUsage, error)
}

// withBerthInfo adds Berth's own information to an inspect response when
// the backend has some; otherwise it returns resp unchanged, so the body is
// exactly Docker's.
func (s *Server) withBerthInfo(ctx context.Context, resp *containertypes.InspectResponse) any {
	b, ok := s.backend.(TmpfsUsageBackend)
	if !ok || resp == nil || resp.State == nil || !resp.State.Running {
		return resp
	}
	usage, err := b.ContainerTmpfsUsage(ctx, resp.ID)
	if err != nil {
		if !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
			s.log.Warn("tmpfs usage for inspect", "container", resp.ID, "err", err)
		}
		return resp
	}
	if usage == nil {
		usage = []berth.TmpfsUsage{}
	}
	return &berth.InspectResponse{InspectResponse: *resp, Berth: &berth.Info{Tmpfs: usage}}
}
