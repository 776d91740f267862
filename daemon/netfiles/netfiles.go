// Package netfiles produces the /etc/hosts and /etc/resolv.conf a container
// sees, as Docker writes them, from plain inputs (pure functions), and
// rewrites them in place while the container runs (the files are bind
// mounted, so their inode must stay).
package netfiles

import (
	"fmt"
	"net/netip"
	"path"
	"strings"

	"github.com/containerd/errdefs"
)

// HostGatewayName is the --add-host address that means the host's address
// as seen from containers (Docker's host-gateway).
const HostGatewayName = "host-gateway"

// Link is a --link as the linking container's /etc/hosts shows it.
type Link struct {
	// Alias is the link's alias; Name the linked container's name (without
	// "/"), Hostname its hostname.
	Alias, Name, Hostname string
	// Addrs are the linked container's addresses on the default bridge.
	Addrs []netip.Addr
}

// Hosts is what a container's /etc/hosts is made of.
type Hosts struct {
	Hostname, Domainname string
	// HostNetwork: the container shares the host's network; HostFile is
	// the host's /etc/hosts, which it then sees.
	HostNetwork bool
	HostFile    []byte
	// Addrs are the container's own addresses (primary network first);
	// none: its hostname is given 127.0.1.1, so that it resolves.
	Addrs []netip.Addr
	// ExtraHosts are HostConfig.ExtraHosts ("NAME:IP", IP may be
	// host-gateway, resolved to HostGateway).
	ExtraHosts  []string
	HostGateway netip.Addr
	Links       []Link
}

// defaultHosts is Docker's fixed head of /etc/hosts.
const defaultHosts = "127.0.0.1\tlocalhost\n" +
	"::1\tlocalhost ip6-localhost ip6-loopback\n" +
	"fe00::0\tip6-localnet\n" +
	"ff00::0\tip6-mcastprefix\n" +
	"ff02::1\tip6-allnodes\n" +
	"ff02::2\tip6-allrouters\n"

// BuildHosts returns the content of a container's /etc/hosts, in Docker's
// order: the fixed head (or the host's file), --add-host entries, links,
// then the container's own addresses.
func BuildHosts(h Hosts) ([]byte, error) {
	var b strings.Builder
	if h.HostNetwork {
		b.Write(h.HostFile)
		if len(h.HostFile) > 0 && h.HostFile[len(h.HostFile)-1] != '\n' {
			b.WriteByte('\n')
		}
	} else {
		b.WriteString(defaultHosts)
	}
	for _, eh := range h.ExtraHosts {
		name, ip, err := ParseExtraHost(eh)
		if err != nil {
			return nil, err
		}
		if ip == HostGatewayName {
			if !h.HostGateway.IsValid() {
				return nil, fmt.Errorf("unable to derive the IP value for host-gateway: %w", errdefs.ErrInvalidArgument)
			}
			ip = h.HostGateway.String()
		}
		fmt.Fprintf(&b, "%s\t%s\n", ip, name)
	}
	for _, l := range h.Links {
		// As Docker: the alias, the hostname, and the name unless it is
		// the alias.
		names := []string{l.Alias}
		if l.Hostname != "" {
			names = append(names, l.Hostname)
		}
		if l.Name != l.Alias {
			names = append(names, l.Name)
		}
		for _, a := range l.Addrs {
			fmt.Fprintf(&b, "%s\t%s\n", a, strings.Join(names, " "))
		}
	}
	if h.HostNetwork {
		return []byte(b.String()), nil
	}
	own := ownNames(h.Hostname, h.Domainname)
	if len(h.Addrs) == 0 {
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", own)
	}
	for _, a := range h.Addrs {
		fmt.Fprintf(&b, "%s\t%s\n", a, own)
	}
	return []byte(b.String()), nil
}

// ownNames is the container's own names in /etc/hosts: the FQDN
// (hostname.domainname) and, when it has a dot, the bare host name.
func ownNames(hostname, domainname string) string {
	fqdn := hostname
	if domainname != "" {
		fqdn += "." + domainname
	}
	if short, _, ok := strings.Cut(fqdn, "."); ok {
		return fqdn + " " + short
	}
	return fqdn
}

// ParseExtraHost splits an --add-host entry "NAME:IP" (the API's form;
// IPv6 addresses keep their colons) and checks it as Docker does. ip is
// HostGatewayName or a valid address.
func ParseExtraHost(s string) (name, ip string, err error) {
	name, ip, ok := strings.Cut(s, ":")
	if !ok || name == "" || strings.ContainsAny(name, " \t\n\r#") {
		return "", "", fmt.Errorf("bad format for add-host: %q: %w", s, errdefs.ErrInvalidArgument)
	}
	if ip == HostGatewayName {
		return name, ip, nil
	}
	addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
	if err != nil {
		return "", "", fmt.Errorf("invalid IP address in add-host: %q: %w", ip, errdefs.ErrInvalidArgument)
	}
	return name, addr.String(), nil
}

// ParseLink splits a --link "NAME[:ALIAS]" (the alias defaults to the
// name) as Docker does; it also reads the form inspect shows,
// "/NAME:/PARENT/ALIAS".
func ParseLink(s string) (name, alias string, err error) {
	parts := strings.Split(s, ":")
	switch {
	case s == "":
		return "", "", fmt.Errorf("empty string specified for links: %w", errdefs.ErrInvalidArgument)
	case len(parts) > 2:
		return "", "", fmt.Errorf("bad format for links: %s: %w", s, errdefs.ErrInvalidArgument)
	case len(parts) == 1:
		name, alias = s, s
	case strings.HasPrefix(parts[0], "/"):
		name, alias = parts[0][1:], path.Base(parts[1])
	default:
		name, alias = parts[0], parts[1]
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" || alias == "" || alias == "/" || alias == "." || strings.ContainsAny(name+alias, " \t\n\r#/") {
		return "", "", fmt.Errorf("bad format for links: %s: %w", s, errdefs.ErrInvalidArgument)
	}
	return name, alias, nil
}

// LinkString is a link as Docker stores and inspect shows it:
// "/NAME:/PARENT/ALIAS".
func LinkString(name, parent, alias string) string {
	return "/" + strings.TrimPrefix(name, "/") + ":/" + strings.TrimPrefix(parent, "/") + "/" + alias
}
