package server

import (
	"errors"
	"net/http"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/api/server/httputils"
)

// postContainerUpdate changes the limits and restart policy of a
// container (docker update).
func (s *Server) postContainerUpdate(w http.ResponseWriter, r *http.Request) error {
	var upd containertypes.UpdateConfig
	if err := httputils.ReadJSON(r, &upd); err != nil && !errors.Is(err, httputils.ErrEmptyBody) {
		return err
	}
	resp, err := s.backend.ContainerUpdate(r.Context(), r.PathValue("name"), &upd)
	if err != nil {
		return err
	}
	if resp.Warnings == nil {
		resp.Warnings = []string{}
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}
