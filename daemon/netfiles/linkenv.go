package netfiles

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// LinkEnv returns the environment variables Docker gives a container on the
// default bridge for one legacy link: ALIAS_NAME, ALIAS_PORT* for each port
// the linked container exposes ("80/tcp"), and ALIAS_ENV_* for its
// environment (but HOME, PATH and HOSTNAME). name is the link's name as
// Docker has it, "/PARENT/ALIAS".
func LinkEnv(name string, childIP netip.Addr, childEnv []string, exposed []string) []string {
	alias := strings.ReplaceAll(strings.ToUpper(name[strings.LastIndex(name, "/")+1:]), "-", "_")
	type port struct {
		num   int
		proto string
	}
	var ports []port
	for _, e := range exposed {
		p, proto, _ := strings.Cut(e, "/")
		if proto == "" {
			proto = "tcp"
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			continue // ranges are expanded by the caller; other forms are not ports
		}
		ports = append(ports, port{n, strings.ToLower(proto)})
	}
	// Docker's order: TCP first, then by number.
	slices.SortFunc(ports, func(a, b port) int {
		if (a.proto == "tcp") != (b.proto == "tcp") {
			if a.proto == "tcp" {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.num, b.num), cmp.Compare(a.proto, b.proto))
	})
	var env []string
	ip := childIP.String()
	var start, end port
	for i, p := range ports {
		if i == 0 {
			start, end = p, p
			env = append(env, fmt.Sprintf("%s_PORT=%s://%s:%d", alias, p.proto, ip, p.num))
		}
		prefix := fmt.Sprintf("%s_PORT_%d_%s", alias, p.num, strings.ToUpper(p.proto))
		env = append(env,
			fmt.Sprintf("%s=%s://%s:%d", prefix, p.proto, ip, p.num),
			fmt.Sprintf("%s_ADDR=%s", prefix, ip),
			fmt.Sprintf("%s_PORT=%d", prefix, p.num),
			fmt.Sprintf("%s_PROTO=%s", prefix, p.proto))
		if p.num == end.num+1 && p.proto == start.proto {
			end = p
			if i < len(ports)-1 {
				continue
			}
		}
		if end != start {
			prefix = fmt.Sprintf("%s_PORT_%d_%s", alias, start.num, strings.ToUpper(start.proto))
			env = append(env,
				fmt.Sprintf("%s_START=%s://%s:%d", prefix, start.proto, ip, start.num),
				fmt.Sprintf("%s_PORT_START=%d", prefix, start.num),
				fmt.Sprintf("%s_END=%s://%s:%d", prefix, end.proto, ip, end.num),
				fmt.Sprintf("%s_PORT_END=%d", prefix, end.num))
		}
		start, end = p, p
	}
	env = append(env, fmt.Sprintf("%s_NAME=%s", alias, name))
	for _, kv := range childEnv {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "HOME" || k == "PATH" || k == "HOSTNAME" {
			continue
		}
		env = append(env, alias+"_ENV_"+kv)
	}
	return env
}
