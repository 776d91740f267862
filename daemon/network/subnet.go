package network

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// Pool is a range of addresses cut into subnets for the networks created
// without one (dockerd's --default-address-pool base=...,size=...).
type Pool struct {
	Base netip.Prefix
	Size int
}

// ParsePool reads "base=172.18.0.0/16,size=24".
func ParsePool(s string) (Pool, error) {
	var p Pool
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch strings.TrimSpace(k) {
		case "base":
			b, err := netip.ParsePrefix(v)
			if err != nil || !b.Addr().Is4() {
				return Pool{}, fmt.Errorf("invalid address pool base %q: an IPv4 CIDR is needed", v)
			}
			p.Base = b.Masked()
		case "size":
			n, err := strconv.Atoi(v)
			if err != nil {
				return Pool{}, fmt.Errorf("invalid address pool size %q", v)
			}
			p.Size = n
		default:
			return Pool{}, fmt.Errorf("invalid address pool option %q: use base=CIDR,size=BITS", kv)
		}
	}
	if !p.Base.IsValid() || p.Size < p.Base.Bits() || p.Size > 30 {
		return Pool{}, fmt.Errorf("invalid address pool %q: size must lie between the base's length and 30", s)
	}
	return p, nil
}

// Next is the first subnet of the pool that overlaps none of used.
func (p Pool) Next(used []netip.Prefix) (netip.Prefix, error) {
	a := p.Base.Addr().As4()
	base := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	step := uint64(1) << (32 - p.Size)
	count := uint64(1) << (p.Size - p.Base.Bits())
next:
	for i := uint64(0); i < count; i++ {
		v := uint32(uint64(base) + i*step)
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), p.Size)
		for _, u := range used {
			if u.Overlaps(cand) {
				continue next
			}
		}
		return cand, nil
	}
	return netip.Prefix{}, errdefs.ErrUnavailable.WithMessage("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
}

// ParseBIP reads --bip, the default bridge's gateway address with the
// subnet's length ("172.17.0.1/16").
func ParseBIP(s string) (netip.Prefix, netip.Addr, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		return netip.Prefix{}, netip.Addr{}, fmt.Errorf("invalid --bip %q: an IPv4 address with a prefix length (172.17.0.1/16) is needed", s)
	}
	if p.Addr() == p.Masked().Addr() {
		return netip.Prefix{}, netip.Addr{}, fmt.Errorf("invalid --bip %q: the gateway cannot be the network's address", s)
	}
	return p.Masked(), p.Addr(), nil
}
