package server

import (
	"context"
	"net/http"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/berth-project/berth/api/types/berth"
)

// withBerthInfo adds Berth's own information to an inspect response when
// the backend has some; otherwise it returns resp unchanged, so the body is
// exactly Docker's.
func (s *Server) withBerthInfo(ctx context.Context, resp *containertypes.InspectResponse) any {
	if resp == nil {
		return resp
	}
	info := &berth.Info{}
	prod, err := s.backend.ContainerProduction(ctx, resp.ID)
	if err != nil && !errdefs.IsNotFound(err) {
		s.log.Warn("production mode for inspect", "container", resp.ID, "err", err)
	}
	info.Production = prod
	if resp.State != nil && resp.State.Running {
		usage, err := s.backend.ContainerTmpfsUsage(ctx, resp.ID)
		switch {
		case err == nil && usage == nil:
			info.Tmpfs = []berth.TmpfsUsage{}
		case err == nil:
			info.Tmpfs = usage
		case !errdefs.IsConflict(err) && !errdefs.IsNotFound(err):
			s.log.Warn("tmpfs usage for inspect", "container", resp.ID, "err", err)
		}
	}
	if info.Tmpfs == nil && info.Production == nil {
		return resp
	}
	return &berth.InspectResponse{InspectResponse: *resp, Berth: info}
}

// getContainerWrites answers GET /containers/{name}/berth/writes, Berth's
// own endpoint for `berth audit`.
func (s *Server) getContainerWrites(w http.ResponseWriter, r *http.Request) error {
	writes, err := s.backend.ContainerWrites(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, writes)
}
