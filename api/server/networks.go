package server

import (
	"net/http"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/moby/moby/api/types/network"
)

func (s *Server) postNetworksCreate(w http.ResponseWriter, r *http.Request) error {
	var req network.CreateRequest
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	resp, err := s.backend.NetworkCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, resp)
}

func (s *Server) deleteNetwork(w http.ResponseWriter, r *http.Request) error {
	if err := s.backend.NetworkRemove(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postNetworkConnect(w http.ResponseWriter, r *http.Request) error {
	var req network.ConnectRequest
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	if req.Container == "" {
		return invalidParameter("container is required")
	}
	if err := s.backend.NetworkConnect(r.Context(), r.PathValue("id"), req.Container, req.EndpointConfig); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) postNetworkDisconnect(w http.ResponseWriter, r *http.Request) error {
	var req network.DisconnectRequest
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	if req.Container == "" {
		return invalidParameter("container is required")
	}
	if err := s.backend.NetworkDisconnect(r.Context(), r.PathValue("id"), req.Container, req.Force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getNetworks(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	if err := validateNetworkFilters(filters); err != nil {
		return err
	}
	list, err := s.backend.NetworkList(r.Context(), filters)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, list)
}

func (s *Server) getNetwork(w http.ResponseWriter, r *http.Request) error {
	n, err := s.backend.NetworkInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, n)
}

var networkFilterTerms = map[string]bool{
	"dangling": true, "driver": true, "id": true, "label": true, "name": true, "scope": true, "type": true,
}

func validateNetworkFilters(f Filters) error {
	for term := range f {
		if !networkFilterTerms[term] {
			return invalidParameter("invalid filter '%s'", term)
		}
	}
	for _, t := range f["type"] {
		if t != "builtin" && t != "custom" {
			return invalidParameter("invalid filter: 'type'='%s'", t)
		}
	}
	return nil
}

func (s *Server) postNetworksPrune(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	deleted, err := s.backend.NetworkPrune(r.Context(), filters)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, network.PruneReport{NetworksDeleted: deleted})
}
