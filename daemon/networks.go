package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/network"
	"github.com/berth-project/berth/daemon/network/dnsserver"
)

// Networks are the store's records; the bridge networks are plumbed with
// CNI when their containers run (endpoints.go).

// NetworkCreate creates a user network (bridge driver only).
func (d *Daemon) NetworkCreate(ctx context.Context, req networktypes.CreateRequest) (networktypes.CreateResponse, error) {
	if req.Scope != "" && req.Scope != "local" {
		return networktypes.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("network scope %q is not supported by berth: use local", req.Scope))
	}
	if req.ConfigOnly || req.ConfigFrom != nil || req.Ingress {
		return networktypes.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage("config-only, config-from and ingress networks are not supported by berth")
	}
	o := network.CreateOptions{AutoSubnet: d.autoSubnet}
	if req.IPAM != nil {
		if req.IPAM.Driver != "" && req.IPAM.Driver != "default" {
			return networktypes.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("IPAM driver %q is not supported by berth: use default", req.IPAM.Driver))
		}
		if len(req.IPAM.Options) > 0 {
			return networktypes.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage("IPAM options are not supported by berth")
		}
		if len(req.IPAM.Config) > 1 {
			return networktypes.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage("berth supports one IPv4 subnet per network")
		}
		for _, cfg := range req.IPAM.Config {
			if err := checkIPAMConfig(cfg); err != nil {
				return networktypes.CreateResponse{}, err
			}
			o.Subnet, o.Gateway, o.IPRange = cfg.Subnet.Masked(), cfg.Gateway, cfg.IPRange
		}
	}
	if req.EnableIPv6 != nil && *req.EnableIPv6 {
		return networktypes.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage("IPv6 networks are not supported by berth")
	}
	if len(req.Options) > 0 {
		return networktypes.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage("network driver options (-o) are not supported by berth")
	}
	o = network.CreateOptions{
		AutoSubnet: o.AutoSubnet, Subnet: o.Subnet, Gateway: o.Gateway, IPRange: o.IPRange,
		Name:       req.Name,
		Driver:     req.Driver,
		Internal:   req.Internal,
		Attachable: req.Attachable,
		Options:    req.Options,
		Labels:     req.Labels,
	}
	if req.EnableIPv6 != nil {
		o.EnableIPv6 = *req.EnableIPv6
	}
	n, err := d.networks.Create(o)
	if err != nil {
		return networktypes.CreateResponse{}, err
	}
	d.networkEvent(n.ID, n.Name, n.Driver, eventtypes.ActionCreate, "")
	d.log.Info("network created", "network", n.ID, "name", n.Name)
	return networktypes.CreateResponse{ID: n.ID}, nil
}

// checkIPAMConfig checks one IPAM.Config entry as Docker does.
func checkIPAMConfig(cfg networktypes.IPAMConfig) error {
	bad := func(format string, args ...any) error {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, args...))
	}
	if !cfg.Subnet.IsValid() {
		if cfg.Gateway.IsValid() || cfg.IPRange.IsValid() {
			return bad("invalid pool request: a gateway or IP range needs a subnet")
		}
		return nil
	}
	if !cfg.Subnet.Addr().Is4() {
		return bad("invalid subnet %s: berth supports IPv4 subnets only", cfg.Subnet)
	}
	if cfg.Subnet.Bits() > 30 {
		return bad("invalid subnet %s: too small for containers", cfg.Subnet)
	}
	if cfg.Gateway.IsValid() && !cfg.Subnet.Contains(cfg.Gateway) {
		return bad("invalid gateway %s: it does not belong to subnet %s", cfg.Gateway, cfg.Subnet)
	}
	if cfg.IPRange.IsValid() && (!cfg.Subnet.Contains(cfg.IPRange.Addr()) || cfg.IPRange.Bits() < cfg.Subnet.Bits()) {
		return bad("invalid ip-range %s: it does not lie within subnet %s", cfg.IPRange, cfg.Subnet)
	}
	if len(cfg.AuxAddress) > 0 {
		return bad("auxiliary addresses are not supported by berth")
	}
	return nil
}

// autoSubnet picks a subnet for a network created without one: the first
// of the pool that overlaps no other network nor an address of the host.
func (d *Daemon) autoSubnet(used []netip.Prefix) (netip.Prefix, error) {
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
				used = append(used, p.Masked())
			}
		}
	}
	return d.pool.Next(used)
}

// NetworkList lists the networks selected by Docker's network filters.
func (d *Daemon) NetworkList(ctx context.Context, filters backend.Filters) ([]networktypes.Summary, error) {
	out := []networktypes.Summary{}
	for _, n := range d.networks.List() {
		ok, err := matchNetwork(n, filters)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, networktypes.Summary{Network: d.apiNetwork(n)})
		}
	}
	return out, nil
}

// NetworkInspect returns one network with its running containers.
func (d *Daemon) NetworkInspect(ctx context.Context, ref string) (*networktypes.Inspect, error) {
	n, err := d.networks.Get(ref)
	if err != nil {
		return nil, err
	}
	resp := &networktypes.Inspect{Network: d.apiNetwork(n), Containers: map[string]networktypes.EndpointResource{}}
	for id, ep := range n.Endpoints {
		if !d.containerRunning(id) {
			continue
		}
		r := networktypes.EndpointResource{Name: ep.ContainerName, EndpointID: endpointID(n.ID, id), MacAddress: macOf(ep.MacAddress)}
		if ep.Address.IsValid() {
			r.IPv4Address = ep.Address
		}
		resp.Containers[id] = r
	}
	return resp, nil
}

// NetworkRemove deletes a user network no running container uses.
func (d *Daemon) NetworkRemove(ctx context.Context, ref string) error {
	n, err := d.networks.Get(ref)
	if err != nil {
		return err
	}
	// Decided before Remove takes the store's lock: inspect locks a
	// container, then the store.
	running := map[string]bool{}
	for id := range n.Endpoints {
		running[id] = d.containerRunning(id)
	}
	n, err = d.networks.Remove(n.ID, func(id string) bool { return running[id] })
	if err != nil {
		return err
	}
	d.unplumbNetwork(n)
	if err := d.dnsStopNetwork(n.ID); err != nil {
		d.log.Warn("stop the DNS server of a removed network", "network", n.Name, "err", err)
	}
	d.networkEvent(n.ID, n.Name, n.Driver, eventtypes.ActionDestroy, "")
	d.log.Info("network removed", "network", n.ID, "name", n.Name)
	return nil
}

// NetworkConnect connects a container to a network.
func (d *Daemon) NetworkConnect(ctx context.Context, ref, name string, ep *networktypes.EndpointSettings) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	n, err := d.networks.Get(ref)
	if err != nil {
		return err
	}
	c.Lock()
	mode := string(c.HostConfig.NetworkMode)
	c.Unlock()
	if n.Name == "host" || n.Name == "none" || mode == "host" || mode == "none" || strings.HasPrefix(mode, "container:") {
		return errdefs.ErrPermissionDenied.WithMessage("container sharing network namespace with another container or host cannot be connected to any other network")
	}
	var aliases []string
	var ip netip.Addr
	if ep != nil {
		aliases = ep.Aliases
		if ep.IPAMConfig != nil {
			ip = ep.IPAMConfig.IPv4Address
		}
	}
	c.Lock()
	defer c.Unlock()
	if err := d.connect(c, n.ID, aliases, ip); err != nil {
		return err
	}
	if !c.State.IsRunning() || !n.IsBridge() {
		return nil
	}
	// A running container gets its new interface now.
	n, err = d.networks.Get(n.ID)
	if err != nil {
		return err
	}
	if err := d.attach(ctx, c, n, d.nextIfName(c), nil); err != nil {
		_ = d.detach(context.Background(), c, n)
		_, _ = d.networks.Disconnect(n.ID, c.ID)
		return err
	}
	return nil
}

// nextIfName is the first free ethN in c's namespace.
func (d *Daemon) nextIfName(c *container.Container) string {
	used := map[string]bool{}
	for _, n := range d.networks.OfContainer(c.ID) {
		used[n.Endpoints[c.ID].IfName] = true
	}
	for i := 0; ; i++ {
		if name := "eth" + strconv.Itoa(i); !used[name] {
			return name
		}
	}
}

func (d *Daemon) connect(c *container.Container, ref string, aliases []string, ip netip.Addr) error {
	n, err := d.networks.Connect(ref, c.ID, c.Name, aliases, ip)
	if err != nil {
		return err
	}
	d.networkEvent(n.ID, n.Name, n.Driver, eventtypes.ActionConnect, c.ID)
	return nil
}

// unplumbNetwork removes what a removed network had on the host: its
// bridge and isolation rules (the IPAM state of an empty network is its
// last-reserved file only).
func (d *Daemon) unplumbNetwork(n network.Network) {
	if !n.IsBridge() || n.Predefined {
		return
	}
	network.RemoveRules(n)
	d.hooksMu.Lock()
	delete(d.isolated, n.Bridge)
	d.hooksMu.Unlock()
	if err := network.DeleteBridge(n.Bridge); err != nil {
		d.log.Warn("delete the bridge of a removed network", "network", n.Name, "err", err)
	}
	os.RemoveAll(filepath.Join(d.cni.IPAMDir(), "berth-"+n.ID[:12]))
}

// NetworkPrune removes the user networks no container is connected to.
func (d *Daemon) NetworkPrune(ctx context.Context, filters backend.Filters) ([]string, error) {
	for term := range filters {
		if term != "label" && term != "until" {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", term))
		}
	}
	if len(filters["until"]) > 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("the until filter of network prune is not supported by berth")
	}
	deleted := []string{}
	for _, n := range d.networks.List() {
		if n.Predefined || len(n.Endpoints) > 0 {
			continue
		}
		if ok, err := matchNetwork(n, backend.Filters{"label": filters["label"]}); err != nil || !ok {
			continue
		}
		if err := d.NetworkRemove(ctx, n.ID); err != nil {
			continue
		}
		deleted = append(deleted, n.Name)
	}
	return deleted, nil
}

// NetworkDisconnect disconnects a container from a network. With force, a
// container that no longer exists is forgotten by its ID.
func (d *Daemon) NetworkDisconnect(ctx context.Context, ref, name string, force bool) error {
	n, err := d.networks.Get(ref)
	if err != nil {
		return err
	}
	id := name
	if c, err := d.containers.Get(name); err == nil {
		id = c.ID
		c.Lock()
		defer c.Unlock()
		if err := d.detach(ctx, c, n); err != nil {
			return err
		}
	} else if !force {
		return err
	}
	if _, err := d.networks.Disconnect(n.ID, id); err != nil {
		return err
	}
	d.networkEvent(n.ID, n.Name, n.Driver, eventtypes.ActionDisconnect, id)
	return nil
}

// attachNetworks connects a new container to its network (NetworkMode) and
// to the other networks of its NetworkingConfig. A network that vanished
// meanwhile is logged, not fatal: the container exists already.
func (d *Daemon) attachNetworks(c *container.Container, nc *networktypes.NetworkingConfig) {
	primary := networkName(c)
	if strings.HasPrefix(primary, "container:") {
		return // it joins another container's namespace: no network of its own
	}
	var eps map[string]*networktypes.EndpointSettings
	if nc != nil {
		eps = nc.EndpointsConfig
	}
	aliasesFor := func(name string) []string {
		if ep := eps[name]; ep != nil {
			return ep.Aliases
		}
		return nil
	}
	ipFor := func(name string) netip.Addr {
		if ep := eps[name]; ep != nil && ep.IPAMConfig != nil {
			return ep.IPAMConfig.IPv4Address
		}
		return netip.Addr{}
	}
	if err := d.connect(c, primary, aliasesFor(primary), ipFor(primary)); err != nil {
		d.log.Warn("connect new container to its network", "container", c.ID, "network", primary, "err", err)
	}
	names := make([]string, 0, len(eps))
	for name := range eps {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		n, err := d.networks.Get(name)
		if err != nil || n.Name == primary || n.ID == primary || n.Predefined {
			continue
		}
		if err := d.connect(c, n.ID, aliasesFor(name), ipFor(name)); err != nil {
			d.log.Warn("connect new container", "container", c.ID, "network", name, "err", err)
		}
	}
}

// userNetwork reports whether mode names an existing user network.
func (d *Daemon) userNetwork(mode string) bool {
	n, err := d.networks.Get(mode)
	return err == nil && !n.Predefined
}

// containerEndpoints is the NetworkSettings.Networks of a container. The
// caller may hold c's lock.
func (d *Daemon) containerEndpoints(c *container.Container) map[string]*networktypes.EndpointSettings {
	out := map[string]*networktypes.EndpointSettings{}
	running := c.State.IsRunning()
	for _, n := range d.networks.OfContainer(c.ID) {
		ep := n.Endpoints[c.ID]
		s := &networktypes.EndpointSettings{NetworkID: n.ID, Aliases: ep.Aliases}
		if ep.IPv4Address.IsValid() {
			s.IPAMConfig = &networktypes.EndpointIPAMConfig{IPv4Address: ep.IPv4Address}
		}
		if !n.Predefined {
			s.DNSNames = dnsserver.DNSNames(ep.ContainerName, c.ID, c.Config.Hostname, ep.Aliases)
			if d.sameNetwork(n.ID, string(c.HostConfig.NetworkMode)) {
				s.Links = endpointLinks(c)
			}
		}
		if running {
			s.EndpointID = endpointID(n.ID, c.ID)
			if ep.Address.IsValid() {
				s.IPAddress = ep.Address.Addr()
				s.IPPrefixLen = ep.Address.Bits()
				s.Gateway = n.Gateway
				s.MacAddress = macOf(ep.MacAddress)
			}
		}
		out[n.Name] = s
	}
	return out
}

// onNetwork reports whether c is connected to the network named or
// identified by ref.
func (d *Daemon) onNetwork(c *container.Container, ref string) bool {
	for _, n := range d.networks.OfContainer(c.ID) {
		if n.Name == ref || n.ID == ref || (len(ref) >= 12 && strings.HasPrefix(n.ID, ref)) {
			return true
		}
	}
	return false
}

func (d *Daemon) containerRunning(id string) bool {
	c, err := d.containers.Get(id)
	if err != nil {
		return false
	}
	c.Lock()
	defer c.Unlock()
	return c.State.IsRunning()
}

// endpointID is a stable ID for a container's endpoint on a network.
func endpointID(networkID, containerID string) string {
	sum := sha256.Sum256([]byte("berth/endpoint/" + networkID + "/" + containerID))
	return hex.EncodeToString(sum[:])
}

func (d *Daemon) apiNetwork(n network.Network) networktypes.Network {
	opts := n.Options
	if opts == nil {
		opts = map[string]string{}
	}
	labels := n.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return networktypes.Network{
		Name:       n.Name,
		ID:         n.ID,
		Created:    n.Created,
		Scope:      "local",
		Driver:     n.Driver,
		EnableIPv4: n.Driver == "bridge",
		EnableIPv6: n.EnableIPv6,
		IPAM:       networktypes.IPAM{Driver: "default", Options: map[string]string{}, Config: ipamConfig(n)},
		Internal:   n.Internal,
		Attachable: n.Attachable,
		Options:    opts,
		Labels:     labels,
	}
}

// matchNetwork applies Docker's network list filters: name and id are
// regular expressions (so a prefix matches), label needs every key or
// key=value, the others match exactly.
func matchNetwork(n network.Network, f backend.Filters) (bool, error) {
	anyOf := func(term string, match func(string) (bool, error)) (bool, error) {
		values, ok := f[term]
		if !ok || len(values) == 0 {
			return true, nil
		}
		for _, v := range values {
			ok, err := match(v)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	pattern := func(value string) func(string) (bool, error) {
		return func(v string) (bool, error) {
			re, err := regexp.Compile(v)
			if err != nil {
				return false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter value %q: %v", v, err))
			}
			return re.MatchString(value), nil
		}
	}
	exact := func(value string) func(string) (bool, error) {
		return func(v string) (bool, error) { return v == value, nil }
	}
	typ := "custom"
	if n.Predefined {
		typ = "builtin"
	}
	checks := []struct {
		term  string
		match func(string) (bool, error)
	}{
		{"name", pattern(n.Name)},
		{"id", pattern(n.ID)},
		{"driver", exact(n.Driver)},
		{"scope", exact("local")},
		{"type", exact(typ)},
		{"dangling", func(v string) (bool, error) {
			dangling := !n.Predefined && len(n.Endpoints) == 0
			switch v {
			case "true", "1":
				return dangling, nil
			case "false", "0":
				return !dangling, nil
			}
			return false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter 'dangling=%s'", v))
		}},
	}
	for _, c := range checks {
		ok, err := anyOf(c.term, c.match)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, l := range f["label"] {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := n.Labels[k]
		if !ok || (hasValue && got != v) {
			return false, nil
		}
	}
	return true, nil
}

func ipamConfig(n network.Network) []networktypes.IPAMConfig {
	if !n.Subnet.IsValid() {
		return []networktypes.IPAMConfig{}
	}
	return []networktypes.IPAMConfig{{Subnet: n.Subnet, Gateway: n.Gateway, IPRange: n.IPRange}}
}

// macOf parses a MAC address the bridge plugin reported.
func macOf(s string) networktypes.HardwareAddr {
	mac, err := net.ParseMAC(s)
	if err != nil {
		return nil
	}
	return networktypes.HardwareAddr(mac)
}

// networkSettings is the NetworkSettings of inspect for c; the caller
// may hold c's lock.
func (d *Daemon) networkSettings(c *container.Container) *containertypes.NetworkSettings {
	s := &containertypes.NetworkSettings{Networks: d.containerEndpoints(c), Ports: d.portsOf(c)}
	if c.State.IsRunning() && plumbed(c) {
		s.SandboxKey = d.netnsPath(c.ID)
	}
	return s
}
