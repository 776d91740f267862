// Package dnsserver is the DNS server Berth runs for each user-defined
// network, as Docker's embedded DNS server: containers resolve each other by
// container name, --network-alias (compose's service names), short ID and
// hostname, and other names are forwarded to upstream resolvers.
//
// One Table holds the names of every network; one Server per network listens
// on an address the daemon chooses (the network's gateway address: Docker
// serves 127.0.0.11 inside each container instead, which needs a DNAT rule in
// every network namespace). A client is answered only when its source address
// is an endpoint of the server's network, so a container of another network,
// or any host that can route to the gateway address, learns nothing and cannot
// use the server as an open resolver.
package dnsserver

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// Endpoint is one container's connection to one network, as the names
// server sees it.
type Endpoint struct {
	// Network is the network's ID; Container the container's ID: together
	// they identify the endpoint.
	Network   string
	Container string
	// NetworkName makes NAME.NETWORKNAME resolve too, as in Docker.
	NetworkName string
	// Names resolve to Addrs on Network, case-insensitively: Docker's
	// DNSNames (container name, aliases, short ID, hostname).
	Names []string
	Addrs []netip.Addr
	// Links are the container's own names for others (--link NAME:ALIAS on
	// a user-defined network): lowercase ALIAS -> NAME, seen by this
	// container only.
	Links map[string]string
	// Upstreams, when set, replace the server's upstreams for queries from
	// this container (its --dns servers).
	Upstreams []netip.AddrPort
}

type key struct{ network, container string }

// Table holds the endpoints of every network. It is safe for concurrent use.
type Table struct {
	mu  sync.RWMutex // guards eps
	eps map[key]Endpoint
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{eps: map[key]Endpoint{}}
}

// Add adds the endpoint, or replaces the one of the same network and
// container (a restart with new addresses).
func (t *Table) Add(ep Endpoint) {
	ep.Names = slices.Clone(ep.Names)
	ep.Addrs = slices.Clone(ep.Addrs)
	ep.Upstreams = slices.Clone(ep.Upstreams)
	links := make(map[string]string, len(ep.Links))
	for alias, name := range ep.Links {
		links[canonical(alias)] = name
	}
	ep.Links = links
	t.mu.Lock()
	defer t.mu.Unlock()
	t.eps[key{ep.Network, ep.Container}] = ep
}

// Remove removes a container's endpoint on a network; removing one that
// is not there does nothing.
func (t *Table) Remove(network, container string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.eps, key{network, container})
}

// RemoveNetwork removes every endpoint of a network.
func (t *Table) RemoveNetwork(network string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.eps {
		if k.network == network {
			delete(t.eps, k)
		}
	}
}

// Answer is what the table knows about a query.
type Answer struct {
	// Client reports whether the querier is an endpoint of the network;
	// nothing else is set when it is not.
	Client bool
	// Known reports whether the name is a container's on one of the
	// client's networks; Addrs are its addresses there (all containers
	// sharing the name, from the first network that has it).
	Known bool
	Addrs []netip.Addr
	// Upstreams are the client's own upstreams (nil: the server's).
	Upstreams []netip.AddrPort
}

// Lookup resolves name for a query that client sent to the server of
// network. The client's other networks are searched after this one, as a
// container of several networks finds names on each.
func (t *Table) Lookup(network string, client netip.Addr, name string) Answer {
	t.mu.RLock()
	defer t.mu.RUnlock()
	self, ok := t.clientLocked(network, client)
	if !ok {
		return Answer{}
	}
	a := Answer{Client: true, Upstreams: self.Upstreams}
	name = canonical(name)
	if target, ok := self.Links[name]; ok {
		name = canonical(target)
	}
	nets := t.networksLocked(self.Container, network)
	for _, n := range nets {
		if a.Addrs, a.Known = t.findLocked(n, name); a.Known {
			return a
		}
	}
	// NAME.NETWORK: NAME on that one of the client's networks (names and
	// network names may hold dots: each split is tried).
	for i := strings.IndexByte(name, '.'); i > 0; i = nextDot(name, i) {
		host, netName := name[:i], name[i+1:]
		for _, n := range nets {
			if t.networkNameLocked(n) == netName {
				if a.Addrs, a.Known = t.findLocked(n, host); a.Known {
					return a
				}
			}
		}
	}
	return a
}

func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// findLocked is the addresses of name on a network.
func (t *Table) findLocked(network, name string) ([]netip.Addr, bool) {
	var addrs []netip.Addr
	known := false
	for _, ep := range t.sortedLocked(network) {
		if slices.ContainsFunc(ep.Names, func(s string) bool { return canonical(s) == name }) {
			known = true
			addrs = append(addrs, ep.Addrs...)
		}
	}
	return addrs, known
}

// networkNameLocked is a network's name as its endpoints give it.
func (t *Table) networkNameLocked(network string) string {
	for k, ep := range t.eps {
		if k.network == network && ep.NetworkName != "" {
			return canonical(ep.NetworkName)
		}
	}
	return ""
}

// Reverse finds the name of addr on the client's networks (for PTR
// queries): the first name of the endpoint that has it. The Answer tells
// whether the client may ask and which upstreams it uses.
func (t *Table) Reverse(network string, client, addr netip.Addr) (string, Answer) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	self, ok := t.clientLocked(network, client)
	if !ok {
		return "", Answer{}
	}
	a := Answer{Client: true, Upstreams: self.Upstreams}
	for _, n := range t.networksLocked(self.Container, network) {
		for _, ep := range t.sortedLocked(n) {
			if slices.Contains(ep.Addrs, addr) && len(ep.Names) > 0 {
				a.Known = true
				a.Addrs = []netip.Addr{addr}
				return ep.Names[0], a
			}
		}
	}
	return "", a
}

// clientLocked finds the endpoint of network that has addr.
func (t *Table) clientLocked(network string, addr netip.Addr) (Endpoint, bool) {
	addr = addr.Unmap()
	for k, ep := range t.eps {
		if k.network == network && slices.Contains(ep.Addrs, addr) {
			return ep, true
		}
	}
	return Endpoint{}, false
}

// networksLocked lists the networks of a container, first first.
func (t *Table) networksLocked(container, first string) []string {
	var nets []string
	for k := range t.eps {
		if k.container == container && k.network != first {
			nets = append(nets, k.network)
		}
	}
	slices.Sort(nets)
	return append([]string{first}, nets...)
}

// sortedLocked lists a network's endpoints in a stable order.
func (t *Table) sortedLocked(network string) []Endpoint {
	var eps []Endpoint
	for k, ep := range t.eps {
		if k.network == network {
			eps = append(eps, ep)
		}
	}
	slices.SortFunc(eps, func(a, b Endpoint) int { return cmp.Compare(a.Container, b.Container) })
	return eps
}

// canonical is a name as the table compares it: lowercase, without the
// trailing dot of a fully qualified name.
func canonical(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// DNSNames are the names a container is known by on a user network, in
// Docker's order: its name, its aliases, its short ID and its hostname,
// without repeats.
func DNSNames(name, id, hostname string, aliases []string) []string {
	names := []string{strings.TrimPrefix(name, "/")}
	names = append(names, aliases...)
	if len(id) >= 12 {
		names = append(names, id[:12])
	}
	names = append(names, hostname)
	var out []string
	for _, n := range names {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
