package netfiles

import (
	"net/netip"
	"slices"
	"strings"
)

// Resolv is what a container's /etc/resolv.conf is made of.
type Resolv struct {
	// HostFile is the host's /etc/resolv.conf.
	HostFile []byte
	// HostNetwork: the container shares the host's network, so the host's
	// loopback resolvers are reachable.
	HostNetwork bool
	// DNS, Search and Options are --dns, --dns-search and --dns-option;
	// each replaces the host's entries of its kind.
	DNS     []netip.Addr
	Search  []string
	Options []string
	// Nameserver, when valid, is the DNS server of the container's
	// user-defined network: the only name server the container uses (the
	// server forwards other names to the container's upstreams).
	Nameserver netip.Addr
	// IPv6 keeps the host's IPv6 name servers (the container has IPv6).
	IPv6 bool
}

// Docker's fallback when no name server is left.
var (
	defaultIPv4DNS = []string{"8.8.8.8", "8.8.4.4"}
	defaultIPv6DNS = []string{"2001:4860:4860::8888", "2001:4860:4860::8844"}
)

// resolvFile is the parsed content of a resolv.conf.
type resolvFile struct {
	nameservers []netip.Addr
	search      []string
	options     []string
}

// parseResolv reads the directives Berth uses; the last search line
// wins, options accumulate, as in the resolver.
func parseResolv(data []byte) resolvFile {
	var f resolvFile
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], ";") {
			continue
		}
		switch fields[0] {
		case "nameserver":
			if len(fields) > 1 {
				if a, err := netip.ParseAddr(fields[1]); err == nil {
					f.nameservers = append(f.nameservers, a)
				}
			}
		case "search", "domain":
			f.search = slices.Clone(fields[1:])
		case "options":
			f.options = append(f.options, fields[1:]...)
		}
	}
	return f
}

// usable reports whether a container's own resolver can use a host name
// server: not one on the host's loopback (unreachable from the
// container's network namespace), IPv6 ones only with IPv6.
func (r Resolv) usable(a netip.Addr) bool {
	if r.HostNetwork {
		return true
	}
	return !a.IsLoopback() && (r.IPv6 || a.Unmap().Is4())
}

// BuildResolvConf returns the content of a container's /etc/resolv.conf,
// as Docker writes it: the host's file without the name servers the
// container cannot reach (Google's public ones if none is left), with the
// --dns* settings replacing their kind; on a user-defined network only the
// network's DNS server, with ndots:0 unless the user set ndots.
func BuildResolvConf(r Resolv) []byte {
	host := parseResolv(r.HostFile)
	search, options := host.search, host.options
	if len(r.Search) > 0 {
		search = r.Search
	}
	if len(r.Options) > 0 {
		options = r.Options
	}
	if r.Nameserver.IsValid() {
		options = slices.Clone(options)
		if !slices.ContainsFunc(options, func(o string) bool { return strings.HasPrefix(o, "ndots:") }) {
			options = append(options, "ndots:0")
		}
		return build([]string{r.Nameserver.String()}, search, options)
	}
	custom := len(r.DNS) > 0 || len(r.Search) > 0 || len(r.Options) > 0
	if r.HostNetwork && !custom {
		return slices.Clone(r.HostFile)
	}
	var servers []string
	if len(r.DNS) > 0 {
		for _, a := range r.DNS {
			servers = append(servers, a.String())
		}
	} else {
		for _, a := range host.nameservers {
			if r.usable(a) {
				servers = append(servers, a.String())
			}
		}
		if len(servers) == 0 {
			servers = append(servers, defaultIPv4DNS...)
			if r.IPv6 {
				servers = append(servers, defaultIPv6DNS...)
			}
		}
	}
	if custom {
		return build(servers, search, options)
	}
	// The host's file, comments and all, without the unusable servers.
	var b strings.Builder
	kept := 0
	for _, line := range strings.SplitAfter(string(r.HostFile), "\n") {
		if line == "" {
			continue
		}
		if f := strings.Fields(line); len(f) > 1 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil && !r.usable(a) {
				continue
			}
			kept++
		}
		b.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			b.WriteByte('\n')
		}
	}
	if kept == 0 {
		for _, s := range servers {
			b.WriteString("nameserver " + s + "\n")
		}
	}
	return []byte(b.String())
}

// build writes a resolv.conf in Docker's order: search, name servers,
// options. A search list of "." means none.
func build(servers, search, options []string) []byte {
	var b strings.Builder
	if len(search) > 0 && strings.TrimSpace(strings.Join(search, " ")) != "." {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return []byte(b.String())
}

// Upstreams are the servers a network's DNS server forwards a container's
// other names to: its --dns servers, else the host's, port 53. Loopback
// servers are kept: the DNS server runs on the host.
func Upstreams(hostFile []byte, dns []netip.Addr) []netip.AddrPort {
	servers := dns
	if len(servers) == 0 {
		servers = parseResolv(hostFile).nameservers
	}
	out := make([]netip.AddrPort, 0, len(servers))
	for _, a := range servers {
		out = append(out, netip.AddrPortFrom(a, 53))
	}
	return out
}
