package opts

import (
	"net/netip"
	"strings"
)

// ParseDNS parses --dns values: IP addresses.
func ParseDNS(values []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, v := range values {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, invalidf("ip address is not correctly formatted: %s", v)
		}
		out = append(out, a)
	}
	return out, nil
}

// ParseExtraHosts parses --add-host values, "NAME:IP" or "NAME=IP" (IPv6
// addresses may be in brackets; IP may be host-gateway), into the API's
// "NAME:IP".
func ParseExtraHosts(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		name, ip, ok := strings.Cut(v, "=")
		if !ok {
			name, ip, ok = strings.Cut(v, ":")
		}
		if !ok || name == "" || strings.ContainsAny(name, " \t\n\r#") {
			return nil, invalidf("bad format for add-host: %q", v)
		}
		if ip != "host-gateway" {
			a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
			if err != nil {
				return nil, invalidf("invalid IP address in add-host: %q", ip)
			}
			ip = a.String()
		}
		out = append(out, name+":"+ip)
	}
	return out, nil
}
