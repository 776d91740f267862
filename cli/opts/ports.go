package opts

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	networktypes "github.com/moby/moby/api/types/network"
)

// ParsePublish parses the -p values, "[IP:][HOSTPORT:]CONTAINERPORT[/PROTO]"
// with ranges ("8000-8001:80-81" binds pairwise; "8000-8010:80" picks a
// free host port in the range), as the docker CLI does. It returns the
// exposed ports and their bindings.
func ParsePublish(specs []string) (networktypes.PortSet, networktypes.PortMap, error) {
	exposed := networktypes.PortSet{}
	bindings := networktypes.PortMap{}
	for _, spec := range specs {
		if err := parsePublish(spec, exposed, bindings); err != nil {
			return nil, nil, err
		}
	}
	return exposed, bindings, nil
}

func parsePublish(spec string, exposed networktypes.PortSet, bindings networktypes.PortMap) error {
	rest, proto, hasProto := strings.Cut(spec, "/")
	if !hasProto {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return invalidf("invalid proto: %s", proto)
	}
	var ip, host, ctr string
	// An IPv6 host address is bracketed: [::1]:8080:80.
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]:")
		if end < 0 {
			return invalidf("invalid IP address: %s", rest)
		}
		ip, rest = rest[1:end], rest[end+2:]
		host, ctr, _ = strings.Cut(rest, ":")
		if ctr == "" {
			return invalidf("invalid port format for --publish: %s", spec)
		}
	} else {
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			ctr = parts[0]
		case 2:
			host, ctr = parts[0], parts[1]
		case 3:
			ip, host, ctr = parts[0], parts[1], parts[2]
		default:
			return invalidf("invalid port format for --publish: %s", spec)
		}
	}
	var hostIP netip.Addr
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil || net.ParseIP(ip) == nil {
			return invalidf("invalid IP address: %s", ip)
		}
		hostIP = a
	}
	if ctr == "" {
		return invalidf("no port specified: %s<empty>", spec)
	}
	cLo, cHi, err := parseRange(ctr)
	if err != nil {
		return invalidf("invalid containerPort: %s", ctr)
	}
	hLo, hHi := 0, 0
	if host != "" {
		if hLo, hHi, err = parseRange(host); err != nil {
			return invalidf("invalid hostPort: %s", host)
		}
	}
	if host != "" && hHi-hLo != cHi-cLo && cHi != cLo {
		return invalidf("invalid ranges specified for container and host Ports: %s and %s", ctr, host)
	}
	for i := 0; i <= cHi-cLo; i++ {
		p, ok := networktypes.PortFrom(uint16(cLo+i), networktypes.IPProtocol(proto))
		if !ok {
			return invalidf("invalid port: %s", spec)
		}
		exposed[p] = struct{}{}
		b := networktypes.PortBinding{HostIP: hostIP}
		switch {
		case host == "":
		case cHi == cLo && hHi != hLo:
			b.HostPort = strconv.Itoa(hLo) + "-" + strconv.Itoa(hHi)
		default:
			b.HostPort = strconv.Itoa(hLo + i)
		}
		bindings[p] = append(bindings[p], b)
	}
	return nil
}

// parseRange reads "80" or "8000-8010".
func parseRange(s string) (int, int, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(a, 10, 16)
	if err != nil {
		return 0, 0, err
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseUint(b, 10, 16); err != nil {
			return 0, 0, err
		}
		if hi < lo {
			return 0, 0, strconv.ErrRange
		}
	}
	return int(lo), int(hi), nil
}

// ParseExpose parses the --expose values, "PORT[/PROTO]" or a range.
func ParseExpose(specs []string) (networktypes.PortSet, error) {
	out := networktypes.PortSet{}
	for _, spec := range specs {
		rest, proto, hasProto := strings.Cut(spec, "/")
		if !hasProto {
			proto = "tcp"
		}
		lo, hi, err := parseRange(rest)
		if err != nil {
			return nil, invalidf("invalid range format for --expose: %s", spec)
		}
		for p := lo; p <= hi; p++ {
			port, ok := networktypes.PortFrom(uint16(p), networktypes.IPProtocol(strings.ToLower(proto)))
			if !ok {
				return nil, invalidf("invalid port: %s", spec)
			}
			out[port] = struct{}{}
		}
	}
	return out, nil
}
