package server

import (
	"context"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/api/types/berth"
)

// withBerthInfo adds Berth's own information to an inspect response when
// the backend has some; otherwise it returns resp unchanged, so the body is
// exactly Docker's.
func (s *Server) withBerthInfo(ctx context.Context, resp *containertypes.InspectResponse) any {
	if resp == nil || resp.State == nil || !resp.State.Running {
		return resp
	}
	usage, err := s.backend.ContainerTmpfsUsage(ctx, resp.ID)
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
