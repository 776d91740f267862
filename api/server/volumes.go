package server

import (
	"errors"
	"net/http"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/moby/moby/api/types/volume"
)

func (s *Server) postVolumesCreate(w http.ResponseWriter, r *http.Request) error {
	var req volume.CreateRequest
	// An empty body creates an anonymous volume with the default driver.
	if err := httputils.ReadJSON(r, &req); err != nil && !errors.Is(err, httputils.ErrEmptyBody) {
		return err
	}
	v, err := s.backend.VolumeCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, v)
}

func (s *Server) getVolumes(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	vols, err := s.backend.VolumeList(r.Context(), filters)
	if err != nil {
		return err
	}
	resp := volume.ListResponse{Volumes: make([]volume.Volume, 0, len(vols)), Warnings: []string{}}
	for _, v := range vols {
		if v != nil {
			resp.Volumes = append(resp.Volumes, *v)
		}
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) getVolume(w http.ResponseWriter, r *http.Request) error {
	v, err := s.backend.VolumeInspect(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, v)
}

func (s *Server) deleteVolume(w http.ResponseWriter, r *http.Request) error {
	if err := s.backend.VolumeRemove(r.Context(), r.PathValue("name"), httputils.BoolValue(r, "force")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
