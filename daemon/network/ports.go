package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
	networktypes "github.com/moby/moby/api/types/network"
	"golang.org/x/sys/unix"
)

// PortRequest is one published port as asked: host port 0 means any free
// port, a range (HostPortEnd > HostPort) means the first free one in it.
type PortRequest struct {
	HostIP        netip.Addr // invalid: every address
	HostPort      uint16
	HostPortEnd   uint16
	ContainerPort uint16
	Proto         string // tcp or udp
}

// PortMapping is one published port as held.
type PortMapping struct {
	HostIP        netip.Addr
	HostPort      uint16
	ContainerPort uint16
	Proto         string
}

// PortRequests decides what a container publishes: every binding, and with
// publishAll every exposed port without one, on a free port. Bindings are
// checked here, at create.
func PortRequests(bindings networktypes.PortMap, exposed networktypes.PortSet, publishAll bool) ([]PortRequest, error) {
	var out []PortRequest
	seen := map[networktypes.Port]bool{}
	for p, bs := range bindings {
		seen[p] = true
		proto := string(p.Proto())
		if proto != "tcp" && proto != "udp" {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid port %s: berth publishes tcp and udp ports only", p))
		}
		if p.Num() == 0 {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid port %s: container port must not be 0", p))
		}
		if len(bs) == 0 {
			bs = []networktypes.PortBinding{{}}
		}
		for _, b := range bs {
			r := PortRequest{HostIP: b.HostIP, ContainerPort: p.Num(), Proto: proto}
			if r.HostIP.IsValid() && !r.HostIP.Is4() {
				return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid host IP %s for port %s: berth publishes on IPv4 addresses only", b.HostIP, p))
			}
			lo, hi, err := parseHostPort(b.HostPort)
			if err != nil {
				return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid host port %q for port %s: %v", b.HostPort, p, err))
			}
			r.HostPort, r.HostPortEnd = lo, hi
			out = append(out, r)
		}
	}
	if publishAll {
		for p := range exposed {
			if seen[p] || (p.Proto() != "tcp" && p.Proto() != "udp") || p.Num() == 0 {
				continue
			}
			out = append(out, PortRequest{ContainerPort: p.Num(), Proto: string(p.Proto())})
		}
	}
	slices.SortFunc(out, func(a, b PortRequest) int {
		if a.ContainerPort != b.ContainerPort {
			return int(a.ContainerPort) - int(b.ContainerPort)
		}
		if a.Proto != b.Proto {
			return strings.Compare(a.Proto, b.Proto)
		}
		return a.HostIP.Compare(b.HostIP)
	})
	return out, nil
}

// parseHostPort reads "", "8080" or "8000-8010".
func parseHostPort(s string) (uint16, uint16, error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(a, 10, 16)
	if err != nil {
		return 0, 0, errors.New("not a port number")
	}
	if !isRange {
		return uint16(lo), uint16(lo), nil
	}
	hi, err := strconv.ParseUint(b, 10, 16)
	if err != nil || hi < lo || lo == 0 {
		return 0, 0, errors.New("not a port range")
	}
	return uint16(lo), uint16(hi), nil
}

// HeldPorts are the published ports with the sockets that reserve them:
// the container's shim keeps these open while the container runs, so no
// one else takes the ports, and a daemon crash does not free them.
type HeldPorts struct {
	Mappings []PortMapping
	Files    []*os.File
}

// Close releases the sockets (the shim has its own copies).
func (h *HeldPorts) Close() {
	for _, f := range h.Files {
		f.Close()
	}
	h.Files = nil
}

// Hold binds a socket for each request, picking the port of those that
// leave it open. A port in use is refused with Docker's message.
func Hold(reqs []PortRequest) (*HeldPorts, error) {
	h := &HeldPorts{}
	for _, r := range reqs {
		m, f, err := hold(r)
		if err != nil {
			h.Close()
			return nil, err
		}
		h.Mappings = append(h.Mappings, m)
		h.Files = append(h.Files, f)
	}
	return h, nil
}

func hold(r PortRequest) (PortMapping, *os.File, error) {
	ip := r.HostIP
	if !ip.IsValid() {
		ip = netip.IPv4Unspecified()
	}
	var err error
	for port := uint32(r.HostPort); port <= uint32(r.HostPortEnd); port++ {
		var f *os.File
		var got uint16
		f, got, err = bind(r.Proto, netip.AddrPortFrom(ip, uint16(port)))
		if err == nil {
			return PortMapping{HostIP: r.HostIP, HostPort: got, ContainerPort: r.ContainerPort, Proto: r.Proto}, f, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		ports := strconv.Itoa(int(r.HostPort))
		if r.HostPortEnd != r.HostPort {
			ports += "-" + strconv.Itoa(int(r.HostPortEnd))
		}
		return PortMapping{}, nil, fmt.Errorf("Bind for %s failed: port is already allocated", net.JoinHostPort(ip.String(), ports))
	}
	return PortMapping{}, nil, fmt.Errorf("bind %s:%d/%s: %w", ip, r.HostPort, r.Proto, err)
}

// bind binds a socket on ap and returns its descriptor and the port it
// got. The socket does not listen: it only reserves the port (without
// SO_REUSEADDR, no other socket can bind it), while portmap's DNAT takes
// the traffic to the container; a listening one would queue connections
// that miss the DNAT and leave their clients hanging.
func bind(proto string, ap netip.AddrPort) (*os.File, uint16, error) {
	typ := unix.SOCK_STREAM
	if proto == "udp" {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, 0, err
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		unix.Close(fd)
		return nil, 0, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, 0, err
	}
	port := uint16(sa.(*unix.SockaddrInet4).Port)
	return os.NewFile(uintptr(fd), fmt.Sprintf("%s:%d/%s", ap.Addr(), port, proto)), port, nil
}

// APIPorts is NetworkSettings.Ports: every exposed port, with its
// bindings when published.
func APIPorts(exposed networktypes.PortSet, held []PortMapping) networktypes.PortMap {
	out := networktypes.PortMap{}
	for p := range exposed {
		out[p] = nil
	}
	for _, m := range held {
		p, ok := networktypes.PortFrom(m.ContainerPort, networktypes.IPProtocol(m.Proto))
		if !ok {
			continue
		}
		ip := m.HostIP
		if !ip.IsValid() {
			ip = netip.IPv4Unspecified()
		}
		out[p] = append(out[p], networktypes.PortBinding{HostIP: ip, HostPort: strconv.Itoa(int(m.HostPort))})
	}
	return out
}
