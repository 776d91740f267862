package server

import (
	"net/http"

	"github.com/berth-project/berth/api/server/httputils"
)

func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Builder-Version", "1")
	h.Set("Swarm", "inactive")
	if r.Method == http.MethodHead {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("OK"))
	return err
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) error {
	v := s.backend.SystemVersion(r.Context())
	if v.APIVersion == "" {
		v.APIVersion = DefaultAPIVersion
	}
	if v.MinAPIVersion == "" {
		v.MinAPIVersion = MinAPIVersion
	}
	return httputils.WriteJSON(w, http.StatusOK, v)
}

func (s *Server) getInfo(w http.ResponseWriter, r *http.Request) error {
	info, err := s.backend.SystemInfo(r.Context())
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, info)
}
