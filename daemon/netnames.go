package daemon

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/netfiles"
	"github.com/berth-project/berth/daemon/network"
	"github.com/berth-project/berth/daemon/network/dnsserver"
)

// Names between containers: --link, --add-host, --dns*, --network-alias,
// and the /etc/hosts and /etc/resolv.conf they end up in.

// What the names need from bridge networking: the addresses of a
// container, the default bridge's gateway and the DNS server of a user
// network. None of these locks a container: callers may hold one.

// attachedAddrs is c's addresses on its attached networks that keep
// (nil keeps all), its primary network first.
func (d *Daemon) attachedAddrs(c *container.Container, keep func(network.Network) bool) []netip.Addr {
	nets := d.networks.OfContainer(c.ID)
	primary := networkName(c)
	slices.SortStableFunc(nets, func(a, b network.Network) int {
		switch {
		case a.Name == primary:
			return -1
		case b.Name == primary:
			return 1
		}
		return 0
	})
	var out []netip.Addr
	for _, n := range nets {
		if ep, ok := n.Endpoints[c.ID]; ok && ep.Attached() && ep.Address.IsValid() && (keep == nil || keep(n)) {
			out = append(out, ep.Address.Addr())
		}
	}
	return out
}

// containerAddrs is c's own addresses, primary network first.
func (d *Daemon) containerAddrs(c *container.Container) []netip.Addr {
	return d.attachedAddrs(c, nil)
}

// bridgeAddrs is c's addresses on the default bridge (for links).
func (d *Daemon) bridgeAddrs(c *container.Container) []netip.Addr {
	return d.attachedAddrs(c, func(n network.Network) bool { return n.Name == "bridge" })
}

// hostGateway is the address that --add-host NAME:host-gateway gives:
// the default bridge's gateway, as Docker's default.
func (d *Daemon) hostGateway() netip.Addr {
	n, err := d.networks.Get("bridge")
	if err != nil {
		return netip.Addr{}
	}
	return n.Gateway
}

// dnsServer is the address of the DNS server of c's user network (its
// gateway) while that server runs; invalid otherwise.
func (d *Daemon) dnsServer(c *container.Container) netip.Addr {
	n, err := d.networks.Get(networkName(c))
	if err != nil || n.Predefined {
		return netip.Addr{}
	}
	addr, ok := d.dns.Addr(n.ID)
	if !ok {
		return netip.Addr{}
	}
	return addr.Addr()
}

// namesOnEndpoint keeps the DNS servers of user networks in step with the
// endpoints: a user network's server starts with its first endpoint (its
// bridge, and so its gateway address, exists from then on), and each
// endpoint's names come and go with it. It runs with the container's lock
// held (see OnEndpoint).
func (d *Daemon) namesOnEndpoint(e EndpointEvent) {
	if e.Network.Predefined || !e.Network.IsBridge() {
		return
	}
	if !e.Up {
		d.dns.Table.Remove(e.Network.ID, e.ContainerID)
		return
	}
	if err := d.dnsStartNetwork(e.Network, e.Network.Gateway); err != nil {
		d.log.Warn("start the DNS server of a network", "network", e.Network.Name, "err", err)
		return
	}
	c, err := d.containers.Get(e.ContainerID)
	if err != nil {
		return
	}
	d.dnsJoin(c, e.Network, e.Aliases, []netip.Addr{e.Address.Addr()})
}

// replayEndpoints announces c's attached endpoints again, for a container
// restore adopted: the DNS servers of this daemon run know nothing yet.
func (d *Daemon) replayEndpoints(c *container.Container) {
	for _, n := range d.networks.OfContainer(c.ID) {
		if ep, ok := n.Endpoints[c.ID]; ok && ep.Attached() {
			d.endpointEvent(EndpointEvent{Up: true, Network: n, ContainerID: c.ID, ContainerName: strings.TrimPrefix(c.Name, "/"), Address: ep.Address, Aliases: ep.Aliases})
		}
	}
}

// defaultBridge reports whether a network mode is Docker's default bridge.
func defaultBridge(mode containertypes.NetworkMode) bool {
	return mode == "" || mode == "default" || mode == "bridge"
}

// checkNames validates the name settings of a create request, before the
// container has a name: --add-host entries, --link (the linked containers
// must exist, as Docker's "could not get container for NAME"), and
// --network-alias (user networks only). It returns the parsed links.
func (d *Daemon) checkNames(hc *containertypes.HostConfig, nc *networktypes.NetworkingConfig) ([][2]string, error) {
	for _, eh := range hc.ExtraHosts {
		if _, _, err := netfiles.ParseExtraHost(eh); err != nil {
			return nil, err
		}
	}
	mode := hc.NetworkMode
	if nc != nil {
		for name, ep := range nc.EndpointsConfig {
			if ep == nil {
				continue
			}
			if len(ep.Aliases) > 0 && (network.IsPredefined(name) || defaultBridge(containertypes.NetworkMode(name))) {
				return nil, fmt.Errorf("network-scoped alias is supported only for containers in user defined networks: %w", errdefs.ErrInvalidArgument)
			}
			if len(ep.Links) > 0 && !d.sameNetwork(name, string(mode)) {
				return nil, fmt.Errorf("links of network %s: berth takes links on the container's own network only (--network %s): %w", name, mode, errdefs.ErrInvalidArgument)
			}
		}
	}
	links := slices.Clone(hc.Links)
	if nc != nil {
		for _, ep := range nc.EndpointsConfig {
			if ep != nil {
				links = append(links, ep.Links...) // on the primary network only, checked above
			}
		}
	}
	var parsed [][2]string
	for _, l := range links {
		name, alias, err := netfiles.ParseLink(l)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(parsed, [2]string{name, alias}) {
			parsed = append(parsed, [2]string{name, alias})
		}
	}
	if len(parsed) == 0 {
		return nil, nil
	}
	switch {
	case mode == "host":
		return nil, fmt.Errorf("conflicting options: host type networking can't be used with links. This would result in undefined behavior: %w", errdefs.ErrInvalidArgument)
	case strings.HasPrefix(string(mode), "container:"):
		return nil, fmt.Errorf("conflicting options: container type network can't be used with links. This would result in undefined behavior: %w", errdefs.ErrInvalidArgument)
	case mode == "none":
		// Docker accepts and ignores them: Berth says so.
		return nil, fmt.Errorf("links need a network: a container on network none cannot have links: %w", errdefs.ErrInvalidArgument)
	case !defaultBridge(mode):
		// On a user network a link is a DNS alias of this container's
		// own, to a name that need not exist yet (as Docker).
		return parsed, nil
	}
	for _, l := range parsed {
		child, err := d.containers.Get(l[0])
		if errdefs.IsNotFound(err) {
			// Invalid, not missing: a 404 makes clients say the image
			// was not found (moby#39823). The text only, not the class.
			return nil, fmt.Errorf("could not get container for %s: %s: %w", l[0], err.Error(), errdefs.ErrInvalidArgument)
		}
		if err != nil {
			return nil, fmt.Errorf("could not get container for %s: %w", l[0], err)
		}
		if child.HostConfig.NetworkMode == "host" {
			return nil, fmt.Errorf("conflicting options: host type networking can't be used with links. This would result in undefined behavior: %w", errdefs.ErrInvalidArgument)
		}
	}
	return parsed, nil
}

// sameNetwork reports whether two references (names or IDs) name one
// network.
func (d *Daemon) sameNetwork(a, b string) bool {
	if a == b {
		return true
	}
	na, errA := d.networks.Get(a)
	nb, errB := d.networks.Get(b)
	return errA == nil && errB == nil && na.ID == nb.ID
}

// inspectLinks is HostConfig.Links as inspect shows it: the legacy links
// of the default bridge; on a user network a container's links show on
// its endpoint instead (endpointLinks), as in Docker.
func inspectLinks(c *container.Container) []string {
	if !defaultBridge(c.HostConfig.NetworkMode) {
		return nil
	}
	return c.HostConfig.Links
}

// endpointLinks is the Links of c's endpoint on its user network, in the
// API's "NAME:ALIAS" form.
func endpointLinks(c *container.Container) []string {
	if defaultBridge(c.HostConfig.NetworkMode) {
		return nil
	}
	var out []string
	for _, l := range c.HostConfig.Links {
		if name, alias, err := netfiles.ParseLink(l); err == nil {
			out = append(out, name+":"+alias)
		}
	}
	return out
}

// linkStrings is links as Docker stores them in HostConfig.Links:
// "/NAME:/PARENT/ALIAS".
func linkStrings(parent string, links [][2]string) []string {
	var out []string
	for _, l := range links {
		out = append(out, netfiles.LinkString(l[0], parent, l[1]))
	}
	return out
}

// links is c's legacy links on the default bridge, with the linked
// containers that still exist (a link goes with its container, as in
// Docker). At start (running set) each must be running on the default
// bridge, as Docker requires.
func (d *Daemon) links(c *container.Container, atStart bool) ([]netfiles.Link, []string, error) {
	if !defaultBridge(c.HostConfig.NetworkMode) {
		return nil, nil, nil
	}
	var links []netfiles.Link
	var env []string
	for _, l := range c.HostConfig.Links {
		name, alias, err := netfiles.ParseLink(l)
		if err != nil {
			return nil, nil, err
		}
		child, err := d.containers.Get(name)
		if err != nil {
			continue
		}
		if atStart {
			if !d.containerRunning(child.ID) {
				// Docker's message and status (500).
				return nil, nil, fmt.Errorf("Cannot link to a non running container: %s AS %s/%s", child.Name, c.Name, alias)
			}
			if !defaultBridge(child.HostConfig.NetworkMode) {
				return nil, nil, fmt.Errorf("Cannot link to %s, as it does not belong to the default network", child.Name)
			}
		}
		addrs := d.bridgeAddrs(child)
		links = append(links, netfiles.Link{Alias: alias, Name: strings.TrimPrefix(child.Name, "/"), Hostname: child.Config.Hostname, Addrs: addrs})
		if len(addrs) > 0 {
			var exposed []string
			for p := range child.Config.ExposedPorts {
				exposed = append(exposed, p.String())
			}
			env = append(env, netfiles.LinkEnv(c.Name+"/"+alias, addrs[0], child.Config.Env, exposed)...)
		}
	}
	return links, env, nil
}

// networkFiles computes c's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, and the environment its links give it. The caller
// holds c's lock or owns c.
func (d *Daemon) networkFiles(c *container.Container, atStart bool) (hostname, hosts, resolv []byte, env []string, err error) {
	hc := c.HostConfig
	links, env, err := d.links(c, atStart)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	hostNet := hc.NetworkMode == "host"
	h := netfiles.Hosts{
		Hostname:    c.Config.Hostname,
		Domainname:  c.Config.Domainname,
		HostNetwork: hostNet,
		Addrs:       d.containerAddrs(c),
		ExtraHosts:  hc.ExtraHosts,
		HostGateway: d.hostGateway(),
		Links:       links,
	}
	if hostNet {
		h.HostFile, _ = os.ReadFile("/etc/hosts")
	}
	if hosts, err = netfiles.BuildHosts(h); err != nil {
		return nil, nil, nil, nil, err
	}
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	resolv = netfiles.BuildResolvConf(netfiles.Resolv{
		HostFile:    hostResolv,
		HostNetwork: hostNet,
		DNS:         hc.DNS,
		Search:      hc.DNSSearch,
		Options:     hc.DNSOptions,
		Nameserver:  d.dnsServer(c),
	})
	return []byte(c.Config.Hostname + "\n"), hosts, resolv, env, nil
}

// writeNetworkFiles (re)writes c's network files in place: a running
// container sees them through bind mounts of their inodes. It returns the
// environment of c's links.
func (d *Daemon) writeNetworkFiles(c *container.Container, atStart bool) ([]string, error) {
	hostname, hosts, resolv, env, err := d.networkFiles(c, atStart)
	if err != nil {
		return nil, err
	}
	// The caller owns c (create) or holds its lock (start), which guards
	// l.netFiles.
	l := d.liveOf(c.ID)
	for i, f := range []struct {
		path string
		data []byte
	}{{c.HostnamePath(), hostname}, {c.HostsPath(), hosts}, {c.ResolvConfPath(), resolv}} {
		if l.netFiles[i].Unchanged(f.path, f.data) {
			continue // a start right after the create, on a network without addresses
		}
		w, err := netfiles.WriteInPlaceRecord(f.path, f.data)
		l.netFiles[i] = w
		if err != nil {
			return nil, err
		}
	}
	return env, nil
}

// refreshLinkers rewrites the /etc/hosts of the containers that link to
// child, whose addresses changed (it started): Docker's update of the
// parents' hosts. It does not lock the linkers: their HostConfig does not
// change after create, and a concurrent start of one writes the same.
func (d *Daemon) refreshLinkers(child *container.Container) {
	for _, p := range d.containers.List() {
		if p.ID == child.ID || !defaultBridge(p.HostConfig.NetworkMode) || !linksTo(p, child) {
			continue
		}
		_, hosts, _, _, err := d.networkFiles(p, false)
		if err == nil {
			err = netfiles.WriteInPlace(p.HostsPath(), hosts)
		}
		if err != nil {
			d.log.Warn("update hosts of linking container", "container", p.ID, "link", child.ID, "err", err)
		}
	}
}

// linksTo reports whether p has a link to child.
func linksTo(p, child *container.Container) bool {
	for _, l := range p.HostConfig.Links {
		if name, _, err := netfiles.ParseLink(l); err == nil && "/"+name == child.Name {
			return true
		}
	}
	return false
}

// dnsStartNetwork starts the DNS server of user network n on its gateway
// address, once the bridge has it. It forwards other names to the host's
// resolvers, loopback ones included (it runs on the host); an internal
// network's forwards nothing.
func (d *Daemon) dnsStartNetwork(n network.Network, gateway netip.Addr) error {
	var upstreams []netip.AddrPort
	if !n.Internal {
		host, _ := os.ReadFile("/etc/resolv.conf")
		upstreams = netfiles.Upstreams(host, nil)
	}
	return d.dns.StartNetwork(dnsserver.Config{Network: n.ID, Addr: netip.AddrPortFrom(gateway, 53), Upstreams: upstreams})
}

// dnsStopNetwork stops the DNS server of a removed network.
func (d *Daemon) dnsStopNetwork(networkID string) error { return d.dns.StopNetwork(networkID) }

// dnsJoin makes c resolvable on user network n with the addresses it got
// there (after CNI ADD), under its name, aliases, short ID and hostname.
func (d *Daemon) dnsJoin(c *container.Container, n network.Network, aliases []string, addrs []netip.Addr) {
	host, _ := os.ReadFile("/etc/resolv.conf")
	ep := dnsEndpoint(c, n.ID, aliases, addrs, host)
	ep.NetworkName = n.Name
	if n.Internal {
		ep.Upstreams = nil // the server forwards nothing for an internal network
	}
	d.dns.Table.Add(ep)
}

// dnsEndpoint is c's entry in the table of the DNS server of a user
// network, for the addresses it got there: names (container name,
// aliases, short ID, hostname), its links as its own aliases, and its
// --dns servers as its upstreams.
func dnsEndpoint(c *container.Container, networkID string, aliases []string, addrs []netip.Addr, hostResolv []byte) dnsserver.Endpoint {
	ep := dnsserver.Endpoint{
		Network:   networkID,
		Container: c.ID,
		Names:     dnsserver.DNSNames(c.Name, c.ID, c.Config.Hostname, aliases),
		Addrs:     addrs,
	}
	for _, l := range c.HostConfig.Links {
		if name, alias, err := netfiles.ParseLink(l); err == nil {
			if ep.Links == nil {
				ep.Links = map[string]string{}
			}
			ep.Links[alias] = name
		}
	}
	if len(c.HostConfig.DNS) > 0 {
		ep.Upstreams = netfiles.Upstreams(hostResolv, c.HostConfig.DNS)
	}
	return ep
}
