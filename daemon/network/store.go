// Package network is berthd's networking: the store of networks (Docker's
// three predefined networks bridge, host and none, and the user networks
// created through the API, with the containers connected to each), the CNI
// configuration lists written for the bridge networks and the calls to the
// plugins (bridge, host-local IPAM, portmap, loopback), the network
// namespaces of containers, the published ports the shims hold, and the few
// iptables rules that isolate the bridges from each other.
package network

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/pkg/atomicfile"
)

// Network is one network.
type Network struct {
	Name       string
	ID         string
	Driver     string
	Created    time.Time
	Internal   bool              `json:",omitempty"`
	Attachable bool              `json:",omitempty"`
	EnableIPv6 bool              `json:",omitempty"`
	Options    map[string]string `json:",omitempty"`
	Labels     map[string]string `json:",omitempty"`
	// Subnet, Gateway and IPRange are the IPv4 addressing of a bridge
	// network (IPRange, when set, is where containers get addresses).
	Subnet  netip.Prefix `json:",omitzero"`
	Gateway netip.Addr   `json:",omitzero"`
	IPRange netip.Prefix `json:",omitzero"`
	// Bridge is the Linux bridge of a bridge network.
	Bridge string `json:",omitempty"`
	// Endpoints are the connected containers by container ID.
	Endpoints map[string]Endpoint `json:",omitempty"`
	// Predefined marks bridge, host and none, which cannot be removed.
	Predefined bool `json:"-"`
}

// Endpoint is one container's connection to a network.
type Endpoint struct {
	ContainerName string
	Aliases       []string `json:",omitempty"`
	// IPv4Address is the address asked for (--ip), if any.
	IPv4Address netip.Addr `json:",omitzero"`
	// IfName, Address and MacAddress are set while the container is
	// attached (it runs): its interface in the container, its address
	// with the subnet's length, and the interface's MAC address.
	IfName     string       `json:",omitempty"`
	Address    netip.Prefix `json:",omitzero"`
	MacAddress string       `json:",omitempty"`
	// Ports are the ports published through this endpoint.
	Ports []PortMapping `json:",omitempty"`
}

// Attached reports whether the endpoint is plumbed (the container runs).
func (e Endpoint) Attached() bool { return e.IfName != "" }

// IsBridge reports whether n is plumbed with a Linux bridge (the default
// bridge and the user networks).
func (n Network) IsBridge() bool { return n.Driver == "bridge" }

// Predefined network names and their drivers, as Docker has them.
var predefined = []struct{ name, driver string }{
	{"bridge", "bridge"},
	{"host", "host"},
	{"none", "null"},
}

// IsPredefined reports whether name is one of bridge, host and none.
func IsPredefined(name string) bool {
	for _, p := range predefined {
		if p.name == name {
			return true
		}
	}
	return false
}

// PredefinedID is the stable ID of a predefined network.
func PredefinedID(name string) string {
	sum := sha256.Sum256([]byte("berth/network/" + name))
	return hex.EncodeToString(sum[:])
}

// Store holds the networks and persists them: the user networks in one
// JSON file, and the endpoints of each container in a file of its own in
// the network-endpoints directory next to it (ID.json: network ID to
// endpoint), so
// that a create or removal writes one small file, not every container's.
type Store struct {
	path  string
	epDir string
	mu    sync.Mutex // guards nets
	nets  map[string]*Network
}

// file is the persisted form of the networks. Endpoints in it are from
// before the endpoints directory: read, and moved there at open.
type file struct {
	Networks []*Network
}

// DefaultBridge is the daemon's configuration of the predefined bridge
// network.
type DefaultBridge struct {
	Name    string       // the Linux bridge (--bridge)
	Subnet  netip.Prefix // --bip's network
	Gateway netip.Addr   // --bip's address
}

// New opens the store persisted at path (created on first change).
// created is the creation time reported for the predefined networks.
func New(path string, created time.Time, bridge DefaultBridge) (*Store, error) {
	s := &Store{path: path, epDir: filepath.Join(filepath.Dir(path), "network-endpoints"), nets: map[string]*Network{}}
	for _, p := range predefined {
		n := &Network{Name: p.name, ID: PredefinedID(p.name), Driver: p.driver, Created: created, Predefined: true}
		if p.name == "bridge" {
			n.Bridge, n.Subnet, n.Gateway = bridge.Name, bridge.Subnet, bridge.Gateway
		}
		s.nets[n.ID] = n
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	legacy := map[string]bool{} // containers with endpoints in the file
	if err == nil {
		var f file
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
		for _, n := range f.Networks {
			for id := range n.Endpoints {
				legacy[id] = true
			}
			if old, ok := s.nets[n.ID]; ok && old.Predefined {
				old.Endpoints = n.Endpoints
				continue
			}
			s.nets[n.ID] = n
		}
	}
	if err := s.loadEndpoints(); err != nil {
		return nil, err
	}
	if len(legacy) > 0 {
		// Move them to the endpoints directory first, then drop them
		// from the file: a crash in between leaves both, which agree.
		for id := range legacy {
			if err := s.saveEndpointsLocked(id); err != nil {
				return nil, err
			}
		}
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// loadEndpoints reads the endpoints directory: an endpoint on a network
// that no longer exists is dropped, an unfinished write (a temporary file)
// deleted.
func (s *Store) loadEndpoints() error {
	entries, err := os.ReadDir(s.epDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(s.epDir, e.Name())
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(e.Name(), ".") {
			os.Remove(p)
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var eps map[string]Endpoint
		if err := json.Unmarshal(data, &eps); err != nil {
			return fmt.Errorf("decode %s: %w", p, err)
		}
		known := 0
		for netID, ep := range eps {
			n, ok := s.nets[netID]
			if !ok {
				continue
			}
			known++
			if n.Endpoints == nil {
				n.Endpoints = map[string]Endpoint{}
			}
			n.Endpoints[id] = ep
		}
		if known == 0 {
			os.Remove(p) // only networks that are gone
		}
	}
	return nil
}

// saveLocked persists the user networks durably, without their
// endpoints; the caller holds mu. Endpoint changes, which come with every
// container create and removal, use saveEndpointsLocked.
func (s *Store) saveLocked() error {
	f := file{Networks: []*Network{}}
	for _, n := range s.sortedLocked() {
		if n.Predefined {
			continue
		}
		c := *n
		c.Endpoints = nil
		f.Networks = append(f.Networks, &c)
	}
	if err := atomicfile.WriteJSON(s.path, f, 0o600); err != nil {
		return fmt.Errorf("save networks: %w", err)
	}
	return nil
}

// saveEndpointsLocked persists the endpoints of container id (its file
// replaced atomically, or deleted when it has none) without syncing: they
// are on the hot path of run and remove; after a power loss the last
// changes may be missing (a container then lists fewer networks).
func (s *Store) saveEndpointsLocked(id string) error {
	eps := map[string]Endpoint{}
	for _, n := range s.nets {
		if ep, ok := n.Endpoints[id]; ok {
			eps[n.ID] = ep
		}
	}
	p := filepath.Join(s.epDir, id+".json")
	if len(eps) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("save endpoints: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(s.epDir, 0o700); err != nil {
		return fmt.Errorf("save endpoints: %w", err)
	}
	if err := atomicfile.ReplaceJSON(p, eps, 0o600); err != nil {
		return fmt.Errorf("save endpoints: %w", err)
	}
	return nil
}

func (s *Store) sortedLocked() []*Network {
	out := slices.Collect(maps.Values(s.nets))
	sort.Slice(out, func(i, j int) bool {
		if out[i].Predefined != out[j].Predefined {
			return out[i].Predefined
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// CreateOptions are the settings of a new network.
type CreateOptions struct {
	Name       string
	Driver     string
	Internal   bool
	Attachable bool
	EnableIPv6 bool
	Options    map[string]string
	Labels     map[string]string
	// Subnet, Gateway and IPRange are the user's IPAM configuration;
	// without a subnet, AutoSubnet picks one that overlaps none of used
	// (the other networks' subnets).
	Subnet     netip.Prefix
	Gateway    netip.Addr
	IPRange    netip.Prefix
	AutoSubnet func(used []netip.Prefix) (netip.Prefix, error)
}

// Create adds a user network. Only the bridge driver is accepted.
func (s *Store) Create(o CreateOptions) (Network, error) {
	if o.Name == "" {
		return Network{}, errdefs.ErrInvalidArgument.WithMessage("network name must not be empty")
	}
	if strings.ContainsAny(o.Name, "/\\: \t\n") {
		return Network{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid network name %q", o.Name))
	}
	if o.Driver == "" {
		o.Driver = "bridge"
	}
	if o.Driver != "bridge" {
		return Network{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("network driver %q is not supported by berth: use bridge", o.Driver))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nets {
		if n.Name == o.Name {
			return Network{}, errdefs.ErrConflict.WithMessage(fmt.Sprintf("network with name %s already exists", o.Name))
		}
	}
	var used []netip.Prefix
	for _, n := range s.nets {
		if n.Subnet.IsValid() {
			used = append(used, n.Subnet)
		}
	}
	if !o.Subnet.IsValid() {
		if o.AutoSubnet == nil {
			return Network{}, errdefs.ErrInvalidArgument.WithMessage("network needs a subnet")
		}
		p, err := o.AutoSubnet(used)
		if err != nil {
			return Network{}, err
		}
		o.Subnet = p
	} else {
		for _, u := range used {
			if u.Overlaps(o.Subnet) {
				return Network{}, errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("invalid pool request: Pool overlaps with other one on this address space (%s overlaps %s)", o.Subnet, u))
			}
		}
	}
	if !o.Gateway.IsValid() {
		o.Gateway = o.Subnet.Masked().Addr().Next()
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	n := &Network{
		Name:       o.Name,
		ID:         hex.EncodeToString(b[:]),
		Driver:     o.Driver,
		Created:    time.Now().UTC(),
		Internal:   o.Internal,
		Attachable: o.Attachable,
		EnableIPv6: o.EnableIPv6,
		Options:    maps.Clone(o.Options),
		Labels:     maps.Clone(o.Labels),
		Subnet:     o.Subnet,
		Gateway:    o.Gateway,
		IPRange:    o.IPRange,
	}
	// IFNAMSIZ leaves 15 bytes: "berth-" and 9 of the ID.
	n.Bridge = "berth-" + n.ID[:9]
	s.nets[n.ID] = n
	if err := s.saveLocked(); err != nil {
		delete(s.nets, n.ID)
		return Network{}, err
	}
	return n.copy(), nil
}

// Get finds a network by full ID, name, or unique ID prefix.
func (s *Store) Get(ref string) (Network, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getLocked(ref)
	if err != nil {
		return Network{}, err
	}
	return n.copy(), nil
}

func (s *Store) getLocked(ref string) (*Network, error) {
	if ref == "" {
		return nil, errdefs.ErrNotFound.WithMessage("network not found")
	}
	if n, ok := s.nets[ref]; ok {
		return n, nil
	}
	for _, n := range s.nets {
		if n.Name == ref {
			return n, nil
		}
	}
	var found []*Network
	for _, n := range s.nets {
		if strings.HasPrefix(n.ID, ref) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("network %s not found", ref))
	default:
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("network %s is ambiguous (%d matches found based on ID prefix)", ref, len(found)))
	}
}

// List returns every network, predefined first, then by name.
func (s *Store) List() []Network {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Network
	for _, n := range s.sortedLocked() {
		out = append(out, n.copy())
	}
	return out
}

// Remove deletes a user network. inUse reports whether a connected
// container keeps it busy (Docker refuses while endpoints are active).
func (s *Store) Remove(ref string, inUse func(containerID string) bool) (Network, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getLocked(ref)
	if err != nil {
		return Network{}, err
	}
	if n.Predefined {
		return Network{}, errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("%s is a pre-defined network and cannot be removed", n.Name))
	}
	for id := range n.Endpoints {
		if inUse(id) {
			return Network{}, errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("error while removing network: network %s id %s has active endpoints", n.Name, n.ID))
		}
	}
	delete(s.nets, n.ID)
	if err := s.saveLocked(); err != nil {
		s.nets[n.ID] = n
		return Network{}, err
	}
	return n.copy(), nil
}

// Connect records container id (named name) on network ref, with the
// address it asks for (ip, may be invalid).
func (s *Store) Connect(ref, id, name string, aliases []string, ip netip.Addr) (Network, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getLocked(ref)
	if err != nil {
		return Network{}, err
	}
	if _, ok := n.Endpoints[id]; ok {
		return Network{}, errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("endpoint with name %s already exists in network %s", strings.TrimPrefix(name, "/"), n.Name))
	}
	if n.Endpoints == nil {
		n.Endpoints = map[string]Endpoint{}
	}
	if ip.IsValid() {
		if !n.Subnet.IsValid() {
			return Network{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("user specified IP address is supported only when connecting to networks with user configured subnets (network %s)", n.Name))
		}
		if !n.Subnet.Contains(ip) {
			return Network{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid IP address %s: it does not belong to any of network %s's subnets (%s)", ip, n.Name, n.Subnet))
		}
		for _, ep := range n.Endpoints {
			if ep.IPv4Address == ip {
				return Network{}, errdefs.ErrConflict.WithMessage(fmt.Sprintf("address %s is already in use on network %s", ip, n.Name))
			}
		}
	}
	n.Endpoints[id] = Endpoint{ContainerName: strings.TrimPrefix(name, "/"), Aliases: slices.Clone(aliases), IPv4Address: ip}
	if err := s.saveEndpointsLocked(id); err != nil {
		delete(n.Endpoints, id)
		return Network{}, err
	}
	return n.copy(), nil
}

// Disconnect removes container id from network ref.
func (s *Store) Disconnect(ref, id string) (Network, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getLocked(ref)
	if err != nil {
		return Network{}, err
	}
	ep, ok := n.Endpoints[id]
	if !ok {
		return Network{}, errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("container %s is not connected to network %s", id, n.Name))
	}
	delete(n.Endpoints, id)
	if err := s.saveEndpointsLocked(id); err != nil {
		n.Endpoints[id] = ep
		return Network{}, err
	}
	return n.copy(), nil
}

// SetAttachment records the plumbing of container id on network netID
// (ifName empty: detached).
func (s *Store) SetAttachment(netID, id, ifName string, addr netip.Prefix, mac string, ports []PortMapping) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nets[netID]
	if !ok {
		return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("network %s not found", netID))
	}
	ep, ok := n.Endpoints[id]
	if !ok {
		return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("container %s is not connected to network %s", id, n.Name))
	}
	ep.IfName, ep.Address, ep.MacAddress, ep.Ports = ifName, addr, mac, slices.Clone(ports)
	n.Endpoints[id] = ep
	return s.saveEndpointsLocked(id)
}

// Forget removes container id from every network (the container is gone).
func (s *Store) Forget(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, n := range s.nets {
		if _, ok := n.Endpoints[id]; ok {
			delete(n.Endpoints, id)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return s.saveEndpointsLocked(id)
}

// Rename records the new name of container id on every network it is
// connected to (docker rename).
func (s *Store) Rename(id, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var renamed []*Network
	for _, n := range s.nets {
		if ep, ok := n.Endpoints[id]; ok {
			ep.ContainerName = strings.TrimPrefix(name, "/")
			n.Endpoints[id] = ep
			renamed = append(renamed, n)
		}
	}
	if len(renamed) == 0 {
		return nil
	}
	return s.saveEndpointsLocked(id)
}

// OfContainer returns the networks container id is connected to. In
// each, Endpoints holds only id's endpoint: a list of N containers asks
// this for each of them, and copying every network's N endpoints each
// time made it quadratic.
func (s *Store) OfContainer(id string) []Network {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Network
	for _, n := range s.sortedLocked() {
		if ep, ok := n.Endpoints[id]; ok {
			c := *n
			c.Options = maps.Clone(n.Options)
			c.Labels = maps.Clone(n.Labels)
			ep.Aliases = slices.Clone(ep.Aliases)
			ep.Ports = slices.Clone(ep.Ports)
			c.Endpoints = map[string]Endpoint{id: ep}
			out = append(out, c)
		}
	}
	return out
}

func (n *Network) copy() Network {
	c := *n
	c.Options = maps.Clone(n.Options)
	c.Labels = maps.Clone(n.Labels)
	c.Endpoints = make(map[string]Endpoint, len(n.Endpoints))
	for id, ep := range n.Endpoints {
		ep.Aliases = slices.Clone(ep.Aliases)
		ep.Ports = slices.Clone(ep.Ports)
		c.Endpoints[id] = ep
	}
	return c
}
