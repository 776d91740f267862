package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	current "github.com/containernetworking/cni/pkg/types/100"
)

// cniVersion is the CNI spec version of the configurations Berth writes;
// Debian's plugins (1.1) speak up to 1.0.0.
const cniVersion = "1.0.0"

// ConfList is the CNI network configuration list of bridge network n:
// the bridge plugin with host-local IPAM whose state lives in ipamDir,
// and, for an attachment that publishes ports, portmap (with SNAT, so that
// the host's 127.0.0.1 reaches them; without ports it would only cost
// iptables calls). An internal network gets neither a default route nor
// masquerade (the masquerade rule is the network's, see masqueradeRule).
func ConfList(n Network, ipamDir string, publish bool) ([]byte, error) {
	if !n.Subnet.IsValid() || n.Bridge == "" {
		return nil, fmt.Errorf("network %s has no subnet or bridge", n.Name)
	}
	rng := map[string]any{"subnet": n.Subnet.Masked().String(), "gateway": n.Gateway.String()}
	if n.IPRange.IsValid() {
		first := n.IPRange.Masked().Addr()
		last := lastAddr(n.IPRange)
		if first == n.Subnet.Masked().Addr() {
			first = first.Next() // the network address is never a host's
		}
		rng["rangeStart"], rng["rangeEnd"] = first.String(), last.String()
	}
	ipam := map[string]any{
		"type":    "host-local",
		"dataDir": ipamDir,
		"ranges":  [][]any{{rng}},
	}
	bridge := map[string]any{
		"type":             "bridge",
		"bridge":           n.Bridge,
		"isGateway":        true,
		"isDefaultGateway": !n.Internal,
		"ipMasq":           false,
		"hairpinMode":      true,
		"ipam":             ipam,
		"capabilities":     map[string]bool{"ips": true},
	}
	plugins := []any{bridge}
	if publish {
		plugins = append(plugins, map[string]any{
			"type":         "portmap",
			"snat":         true,
			"capabilities": map[string]bool{"portMappings": true},
		})
	}
	return json.Marshal(map[string]any{
		"cniVersion": cniVersion,
		"name":       "berth-" + n.ID[:12],
		"plugins":    plugins,
	})
}

// lastAddr is the highest address of p, short of its broadcast address.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) | host
	if p.Bits() < 31 {
		v-- // the broadcast address
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// loopbackConf brings a namespace's loopback up.
var loopbackConf = []byte(`{"cniVersion":"` + cniVersion + `","name":"berth-loopback","plugins":[{"type":"loopback"}]}`)

// CNI runs the plugins. Its cache (the results of ADD that DEL needs) and
// the IPAM state live under the daemon's data root, so that a daemon
// restarted after a crash can still undo what the last one did.
type CNI struct {
	cni     *libcni.CNIConfig
	ipamDir string
}

// PluginDirs are where the CNI plugins are looked up: Debian's
// containernetworking-plugins installs them in /usr/lib/cni.
var PluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// NewCNI prepares the plugin calls with state under dir.
func NewCNI(dir string) (*CNI, error) {
	c := &CNI{cni: libcni.NewCNIConfigWithCacheDir(PluginDirs, filepath.Join(dir, "cache"), nil), ipamDir: filepath.Join(dir, "ipam")}
	for _, d := range []string{filepath.Join(dir, "cache"), c.ipamDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if _, err := invoke.FindInPath("bridge", PluginDirs); err != nil {
		return nil, fmt.Errorf("the CNI plugins are missing (install Debian's containernetworking-plugins): %w", err)
	}
	return c, nil
}

// IPAMDir is where host-local keeps its leases.
func (c *CNI) IPAMDir() string { return c.ipamDir }

// Attachment is one container's interface on one network.
type Attachment struct {
	ContainerID string
	NetNS       string // the namespace's bind-mounted file
	IfName      string
	IP          netip.Addr    // asked for (--ip), may be invalid
	Ports       []PortMapping // published through this network
}

// Lease is what ADD gave the container.
type Lease struct {
	Address netip.Prefix
	MAC     string
}

func (c *CNI) list(n Network, a Attachment) (*libcni.NetworkConfigList, error) {
	data, err := ConfList(n, c.ipamDir, len(a.Ports) > 0)
	if err != nil {
		return nil, err
	}
	return libcni.NetworkConfFromBytes(data)
}

func runtimeConf(n Network, a Attachment) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{ContainerID: a.ContainerID, NetNS: a.NetNS, IfName: a.IfName, CapabilityArgs: map[string]any{}}
	if a.IP.IsValid() {
		rt.CapabilityArgs["ips"] = []string{netip.PrefixFrom(a.IP, n.Subnet.Bits()).String()}
	}
	if len(a.Ports) > 0 {
		var pm []map[string]any
		for _, p := range a.Ports {
			m := map[string]any{"hostPort": p.HostPort, "containerPort": p.ContainerPort, "protocol": p.Proto}
			if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
				m["hostIP"] = p.HostIP.String()
			}
			pm = append(pm, m)
		}
		rt.CapabilityArgs["portMappings"] = pm
	}
	return rt
}

// Add plugs a's interface into bridge network n.
func (c *CNI) Add(ctx context.Context, n Network, a Attachment) (Lease, error) {
	list, err := c.list(n, a)
	if err != nil {
		return Lease{}, err
	}
	res, err := c.cni.AddNetworkList(ctx, list, runtimeConf(n, a))
	if err != nil {
		return Lease{}, fmt.Errorf("attach to network %s: %w", n.Name, err)
	}
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return Lease{}, err
	}
	return leaseOf(r, a.IfName)
}

// leaseOf finds the address and MAC of ifName in a result.
func leaseOf(r *current.Result, ifName string) (Lease, error) {
	var l Lease
	idx := -1
	for i, iface := range r.Interfaces {
		if iface.Name == ifName && iface.Sandbox != "" {
			idx, l.MAC = i, iface.Mac
		}
	}
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() == nil || (ip.Interface != nil && *ip.Interface != idx) {
			continue
		}
		a, ok := netip.AddrFromSlice(ip.Address.IP.To4())
		ones, _ := ip.Address.Mask.Size()
		if ok {
			l.Address = netip.PrefixFrom(a, ones)
			return l, nil
		}
	}
	return Lease{}, errors.New("the CNI result holds no IPv4 address for " + ifName)
}

// Del unplugs a's interface from n and frees its address and ports. It is
// idempotent: the plugins ignore what is gone already.
func (c *CNI) Del(ctx context.Context, n Network, a Attachment) error {
	list, err := c.list(n, a)
	if err != nil {
		return err
	}
	if err := c.cni.DelNetworkList(ctx, list, runtimeConf(n, a)); err != nil {
		return fmt.Errorf("detach from network %s: %w", n.Name, err)
	}
	return nil
}

// Loopback brings the loopback interface of netns up.
func (c *CNI) Loopback(ctx context.Context, containerID, netns string) error {
	list, err := libcni.NetworkConfFromBytes(loopbackConf)
	if err != nil {
		return err
	}
	_, err = c.cni.AddNetworkList(ctx, list, &libcni.RuntimeConf{ContainerID: containerID, NetNS: netns, IfName: "lo"})
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	return nil
}

// ForgetLoopback drops the cached result of Loopback.
func (c *CNI) ForgetLoopback(ctx context.Context, containerID, netns string) {
	list, err := libcni.NetworkConfFromBytes(loopbackConf)
	if err == nil {
		_ = c.cni.DelNetworkList(ctx, list, &libcni.RuntimeConf{ContainerID: containerID, NetNS: netns, IfName: "lo"})
	}
}

// LeaseFiles counts host-local's lease files (tests and cleanup checks).
func (c *CNI) LeaseFiles() int {
	n := 0
	_ = filepath.WalkDir(c.ipamDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), "last_reserved_ip") && d.Name() != "lock" {
			n++
		}
		return nil
	})
	return n
}
