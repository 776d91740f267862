package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/moby/moby/api/types/network"
)

// NetworkBackend is implemented by a daemon that manages networks. Without
// it, the server reports Docker's three predefined networks and refuses
// changes.
type NetworkBackend interface {
	NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error)
	NetworkList(ctx context.Context, filters Filters) ([]network.Summary, error)
	NetworkInspect(ctx context.Context, ref string) (*network.Inspect, error)
	NetworkRemove(ctx context.Context, ref string) error
	NetworkConnect(ctx context.Context, ref, container string, endpoint *network.EndpointSettings) error
	NetworkDisconnect(ctx context.Context, ref, container string, force bool) error
}

func (s *Server) networkBackend() (NetworkBackend, error) {
	nb, ok := s.backend.(NetworkBackend)
	if !ok {
		return nil, notImplemented("this daemon does not manage networks")
	}
	return nb, nil
}

func (s *Server) postNetworksCreate(w http.ResponseWriter, r *http.Request) error {
	nb, err := s.networkBackend()
	if err != nil {
		return err
	}
	var req network.CreateRequest
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	resp, err := nb.NetworkCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, resp)
}

func (s *Server) deleteNetwork(w http.ResponseWriter, r *http.Request) error {
	nb, err := s.networkBackend()
	if err != nil {
		return err
	}
	if err := nb.NetworkRemove(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postNetworkConnect(w http.ResponseWriter, r *http.Request) error {
	nb, err := s.networkBackend()
	if err != nil {
		return err
	}
	var req network.ConnectRequest
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	if req.Container == "" {
		return invalidParameter("container is required")
	}
	if err := nb.NetworkConnect(r.Context(), r.PathValue("id"), req.Container, req.EndpointConfig); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) postNetworkDisconnect(w http.ResponseWriter, r *http.Request) error {
	nb, err := s.networkBackend()
	if err != nil {
		return err
	}
	var req network.DisconnectRequest
	if err := httputils.ReadJSON(r, &req); err != nil {
		return err
	}
	if req.Container == "" {
		return invalidParameter("container is required")
	}
	if err := nb.NetworkDisconnect(r.Context(), r.PathValue("id"), req.Container, req.Force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// builtinNetworks are Docker's three predefined networks, which the server
// reports for a backend that does not manage networks.
var builtinNetworks = []struct{ name, driver string }{
	{"bridge", "bridge"},
	{"host", "host"},
	{"none", "null"},
}

// networkID is a stable ID for a built-in network, 64 hex digits like
// Docker's.
func networkID(name string) string {
	sum := sha256.Sum256([]byte("berth/network/" + name))
	return hex.EncodeToString(sum[:])
}

func (s *Server) builtinNetwork(name, driver string) network.Network {
	return network.Network{
		Name:       name,
		ID:         networkID(name),
		Created:    s.started,
		Scope:      "local",
		Driver:     driver,
		EnableIPv4: name == "bridge",
		IPAM:       network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{}},
		Options:    map[string]string{},
		Labels:     map[string]string{},
	}
}

func (s *Server) getNetworks(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	if err := validateNetworkFilters(filters); err != nil {
		return err
	}
	if nb, ok := s.backend.(NetworkBackend); ok {
		list, err := nb.NetworkList(r.Context(), filters)
		if err != nil {
			return err
		}
		return httputils.WriteJSON(w, http.StatusOK, list)
	}
	list := []network.Summary{}
	for _, b := range builtinNetworks {
		n := s.builtinNetwork(b.name, b.driver)
		if matchNetwork(n, filters) {
			list = append(list, network.Summary{Network: n})
		}
	}
	return httputils.WriteJSON(w, http.StatusOK, list)
}

func (s *Server) getNetwork(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if nb, ok := s.backend.(NetworkBackend); ok {
		n, err := nb.NetworkInspect(r.Context(), id)
		if err != nil {
			return err
		}
		return httputils.WriteJSON(w, http.StatusOK, n)
	}
	var found []network.Network
	for _, b := range builtinNetworks {
		n := s.builtinNetwork(b.name, b.driver)
		if n.Name == id || n.ID == id {
			found = []network.Network{n}
			break
		}
		if strings.HasPrefix(n.ID, id) {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		return notFound("network %s not found", id)
	}
	return httputils.WriteJSON(w, http.StatusOK, network.Inspect{
		Network:    found[0],
		Containers: map[string]network.EndpointResource{},
	})
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

// matchNetwork applies Docker's network filters to a built-in network: name
// and id match as regular expressions (so a prefix matches), the others
// exactly. Built-in networks have no labels and are never dangling.
func matchNetwork(n network.Network, f Filters) bool {
	matchAny := func(term, value string, pattern bool) bool {
		values, ok := f[term]
		if !ok {
			return true
		}
		for _, v := range values {
			if v == value {
				return true
			}
			if pattern {
				if re, err := regexp.Compile(v); err == nil && re.MatchString(value) {
					return true
				}
			}
		}
		return false
	}
	if _, ok := f["label"]; ok {
		return false
	}
	if vs, ok := f["dangling"]; ok && len(vs) > 0 && vs[0] != "false" && vs[0] != "0" {
		return false
	}
	return matchAny("name", n.Name, true) &&
		matchAny("id", n.ID, true) &&
		matchAny("driver", n.Driver, false) &&
		matchAny("scope", n.Scope, false) &&
		matchAny("type", "builtin", false)
}
