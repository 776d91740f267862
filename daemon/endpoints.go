package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/network"
)

// A container on a bridge network runs in a network namespace the daemon
// makes before the start (a file under the exec root, bind-mounted), with
// one interface per network, plugged by CNI's bridge plugin, and its
// published ports by CNI's portmap; the sockets that reserve the ports go
// to the shim. When the run ends (or at restore, for a run that ended
// while no daemon watched) DEL undoes it all.

// EndpointEvent tells that a container's endpoint on a network came up
// (its interface has an address) or went down. The per-network DNS
// server and the /etc/hosts writer listen to these.
type EndpointEvent struct {
	Up            bool
	Network       network.Network // Name, ID, Subnet, Gateway
	ContainerID   string
	ContainerName string // without the leading "/"
	Address       netip.Prefix
	Aliases       []string
}

// OnEndpoint registers fn for every endpoint event. fn runs with the
// container's lock held: it must not call back into the daemon.
func (d *Daemon) OnEndpoint(fn func(EndpointEvent)) {
	d.hooksMu.Lock()
	defer d.hooksMu.Unlock()
	d.endpointHooks = append(d.endpointHooks, fn)
}

func (d *Daemon) endpointEvent(e EndpointEvent) {
	d.hooksMu.Lock()
	hooks := slices.Clone(d.endpointHooks)
	d.hooksMu.Unlock()
	for _, fn := range hooks {
		fn(e)
	}
}

func (d *Daemon) netnsDir() string           { return filepath.Join(d.cfg.ExecRoot, "netns") }
func (d *Daemon) netnsPath(id string) string { return filepath.Join(d.netnsDir(), id) }

// plumbed reports whether c's network mode is a bridge network, which the
// daemon plumbs (host, none and container: are not).
func plumbed(c *container.Container) bool {
	switch m := string(c.HostConfig.NetworkMode); {
	case m == "host" || m == "none" || strings.HasPrefix(m, "container:"):
		return false
	}
	return true
}

// ensureNetworkRules installs n's isolation and masquerade rules once per
// daemon run.
func (d *Daemon) ensureNetworkRules(n network.Network) error {
	d.hooksMu.Lock()
	done := d.isolated[n.Bridge]
	d.hooksMu.Unlock()
	if done {
		return nil
	}
	if err := network.EnsureRules(n); err != nil {
		return err
	}
	d.hooksMu.Lock()
	d.isolated[n.Bridge] = true
	d.hooksMu.Unlock()
	return nil
}

// networkUp makes c's network namespace, plugs it into each of c's
// networks (its primary network first, as eth0) and holds its published
// ports. The caller holds c's lock and hands the held sockets to the
// shim. On error nothing is left.
func (d *Daemon) networkUp(ctx context.Context, c *container.Container) (held *network.HeldPorts, nsPath string, retErr error) {
	if !plumbed(c) {
		return &network.HeldPorts{}, "", nil
	}
	began := time.Now()
	defer func() { d.log.Debug("network up", "container", c.ID, "took", time.Since(began), "err", retErr) }()
	reqs, err := network.PortRequests(c.HostConfig.PortBindings, c.Config.ExposedPorts, c.HostConfig.PublishAllPorts)
	if err != nil {
		return nil, "", err
	}
	held, err = network.Hold(reqs)
	if err != nil {
		return nil, "", fmt.Errorf("driver failed programming external connectivity on endpoint %s (%s): %w", strings.TrimPrefix(c.Name, "/"), c.ID, err)
	}
	defer func() {
		if retErr != nil {
			held.Close()
			d.networkDown(c)
		}
	}()
	nsPath = d.netnsPath(c.ID)
	if err := network.RemoveNetNS(nsPath); err != nil {
		return nil, "", err
	}
	if err := network.NewNetNS(nsPath); err != nil {
		return nil, "", err
	}
	if err := d.cni.Loopback(ctx, c.ID, nsPath); err != nil {
		return nil, "", err
	}
	primary := networkName(c)
	nets := d.networks.OfContainer(c.ID)
	slices.SortStableFunc(nets, func(a, b network.Network) int {
		switch {
		case a.Name == primary:
			return -1
		case b.Name == primary:
			return 1
		}
		return 0
	})
	for i, n := range nets {
		if !n.IsBridge() {
			continue
		}
		var ports []network.PortMapping
		if i == 0 {
			ports = held.Mappings
		}
		if err := d.attach(ctx, c, n, "eth"+strconv.Itoa(i), ports); err != nil {
			return nil, "", err
		}
	}
	return held, nsPath, nil
}

// attach plugs c's interface ifName into n. The interface is recorded
// before ADD so that a crash in between still finds what to DEL.
func (d *Daemon) attach(ctx context.Context, c *container.Container, n network.Network, ifName string, ports []network.PortMapping) error {
	if err := d.ensureNetworkRules(n); err != nil {
		return err
	}
	ep := n.Endpoints[c.ID]
	if err := d.networks.SetAttachment(n.ID, c.ID, ifName, netip.Prefix{}, "", ports); err != nil {
		return err
	}
	lease, err := d.cni.Add(ctx, n, network.Attachment{ContainerID: c.ID, NetNS: d.netnsPath(c.ID), IfName: ifName, IP: ep.IPv4Address, Ports: ports})
	if err != nil {
		return err
	}
	if err := d.networks.SetAttachment(n.ID, c.ID, ifName, lease.Address, lease.MAC, ports); err != nil {
		return err
	}
	d.endpointEvent(EndpointEvent{Up: true, Network: n, ContainerID: c.ID, ContainerName: strings.TrimPrefix(c.Name, "/"), Address: lease.Address, Aliases: ep.Aliases})
	return nil
}

// detach unplugs c from n, if it is plugged.
func (d *Daemon) detach(ctx context.Context, c *container.Container, n network.Network) error {
	ep, ok := n.Endpoints[c.ID]
	if !ok || !ep.Attached() || !n.IsBridge() {
		return nil
	}
	if err := d.cni.Del(ctx, n, network.Attachment{ContainerID: c.ID, NetNS: d.netnsPath(c.ID), IfName: ep.IfName, IP: ep.IPv4Address, Ports: ep.Ports}); err != nil {
		return err
	}
	if err := d.networks.SetAttachment(n.ID, c.ID, "", netip.Prefix{}, "", nil); err != nil {
		return err
	}
	d.endpointEvent(EndpointEvent{Up: false, Network: n, ContainerID: c.ID, ContainerName: strings.TrimPrefix(c.Name, "/"), Address: ep.Address, Aliases: ep.Aliases})
	return nil
}

// networkDown undoes networkUp: DEL on every network c is plugged into,
// then the namespace goes. It is idempotent and also finishes what a
// crashed daemon left. Errors are logged: the container's end must not
// fail for them.
func (d *Daemon) networkDown(c *container.Container) {
	ctx := context.Background()
	began := time.Now()
	defer func() { d.log.Debug("network down", "container", c.ID, "took", time.Since(began)) }()
	nsPath := d.netnsPath(c.ID)
	_, statErr := os.Stat(nsPath)
	for _, n := range d.networks.OfContainer(c.ID) {
		if err := d.detach(ctx, c, n); err != nil {
			d.log.Warn("detach container from network", "container", c.ID, "network", n.Name, "err", err)
		}
	}
	if statErr != nil {
		return
	}
	d.cni.ForgetLoopback(ctx, c.ID, nsPath)
	if err := network.RemoveNetNS(nsPath); err != nil {
		d.log.Warn("remove network namespace", "container", c.ID, "err", err)
	}
}

// removeStaleNetNS removes the namespaces of containers that are gone.
func (d *Daemon) removeStaleNetNS() {
	entries, _ := os.ReadDir(d.netnsDir())
	for _, e := range entries {
		if _, err := d.containers.Get(e.Name()); err == nil {
			continue
		}
		if err := network.RemoveNetNS(filepath.Join(d.netnsDir(), e.Name())); err != nil {
			d.log.Warn("remove a stale network namespace", "file", e.Name(), "err", err)
		}
	}
}

// joinedNetNS is the namespace path a container with network mode
// container:NAME joins, and that container: its namespace is joined while
// it runs.
func (d *Daemon) joinedNetNS(c *container.Container) (string, *container.Container, error) {
	ref, ok := strings.CutPrefix(string(c.HostConfig.NetworkMode), "container:")
	if !ok {
		return "", nil, nil
	}
	other, err := d.containers.Get(ref)
	if err != nil {
		return "", nil, err
	}
	if other.ID == c.ID {
		return "", nil, fmt.Errorf("cannot join own network namespace: %w", errInvalid)
	}
	// HostConfig does not change after create. Joining only containers
	// with namespaces of their own keeps the locks acyclic: c's lock is
	// held here, and other never takes a third container's.
	if strings.HasPrefix(string(other.HostConfig.NetworkMode), "container:") {
		return "", nil, fmt.Errorf("cannot join the network namespace of %s: it shares another container's: %w", ref, errConflict)
	}
	other.Lock()
	defer other.Unlock()
	if !other.State.IsRunning() {
		return "", nil, fmt.Errorf("cannot join network namespace of a non running container: %s: %w", ref, errConflict)
	}
	if _, err := os.Stat(d.netnsPath(other.ID)); err == nil {
		return d.netnsPath(other.ID), other, nil
	}
	return "/proc/" + strconv.Itoa(other.State.Pid) + "/ns/net", other, nil
}

// portsOf is NetworkSettings.Ports of c: its exposed ports with their
// bindings while it runs (none otherwise, as Docker); the caller may hold
// c's lock.
func (d *Daemon) portsOf(c *container.Container) networktypes.PortMap {
	if !c.State.IsRunning() {
		return networktypes.PortMap{}
	}
	var held []network.PortMapping
	for _, n := range d.networks.OfContainer(c.ID) {
		held = append(held, n.Endpoints[c.ID].Ports...)
	}
	return network.APIPorts(c.Config.ExposedPorts, held)
}

// portSummaries is the Ports of a container in a list: exposed ports
// without bindings once, and each binding.
func portSummaries(pm networktypes.PortMap) []containertypes.PortSummary {
	out := []containertypes.PortSummary{}
	for p, bs := range pm {
		if len(bs) == 0 {
			out = append(out, containertypes.PortSummary{PrivatePort: p.Num(), Type: string(p.Proto())})
			continue
		}
		for _, b := range bs {
			port, _ := strconv.ParseUint(b.HostPort, 10, 16)
			out = append(out, containertypes.PortSummary{IP: b.HostIP, PrivatePort: p.Num(), PublicPort: uint16(port), Type: string(p.Proto())})
		}
	}
	slices.SortFunc(out, func(a, b containertypes.PortSummary) int {
		if a.PrivatePort != b.PrivatePort {
			return int(a.PrivatePort) - int(b.PrivatePort)
		}
		return strings.Compare(a.Type, b.Type)
	})
	return out
}
