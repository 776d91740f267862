package server

import (
	"errors"
	"net/http"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/berth-project/berth/api/server/httputils"
)

// postContainerUpdate changes the limits and restart policy of a
// container (docker update).
func (s *Server) postContainerUpdate(w http.ResponseWriter, r *http.Request) error {
	var upd struct {
		containertypes.UpdateConfig
		KernelMemory int64 // API < 1.42, as at create
	}
	if err := httputils.ReadJSON(r, &upd); err != nil && !errors.Is(err, httputils.ErrEmptyBody) {
		return err
	}
	if upd.KernelMemory != 0 && versions.LessThan(httputils.VersionFromContext(r.Context()), "1.42") {
		return invalidParameter("KernelMemory is not supported: kernel memory limits are deprecated by the kernel and were removed in API 1.42")
	}
	resp, err := s.backend.ContainerUpdate(r.Context(), r.PathValue("name"), &upd.UpdateConfig)
	if err != nil {
		return err
	}
	if resp.Warnings == nil {
		resp.Warnings = []string{}
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}
