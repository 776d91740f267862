package daemon

import (
	"net/netip"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/container"
)

func TestDNSEndpoint(t *testing.T) {
	t.Parallel()
	c := &container.Container{
		ID:     "0123456789abcdef0123",
		Name:   "/web",
		Config: &containertypes.Config{Hostname: "webhost"},
		HostConfig: &containertypes.HostConfig{
			Links: []string{"/db:/web/mydb"},
			DNS:   []netip.Addr{netip.MustParseAddr("10.0.0.53")},
		},
	}
	addr := netip.MustParseAddr("172.18.0.2")
	ep := dnsEndpoint(c, "net1", []string{"api", "web"}, []netip.Addr{addr}, []byte("nameserver 127.0.0.53\n"))
	assert.Check(t, is.Equal(ep.Network, "net1"))
	assert.Check(t, is.Equal(ep.Container, c.ID))
	assert.Check(t, is.DeepEqual(ep.Names, []string{"web", "api", "0123456789ab", "webhost"}))
	assert.Check(t, is.DeepEqual(ep.Links, map[string]string{"mydb": "db"}))
	assert.Check(t, is.Len(ep.Upstreams, 1))
	assert.Check(t, is.Equal(ep.Upstreams[0].String(), "10.0.0.53:53"))
	assert.Check(t, ep.Addrs[0] == addr)

	c.HostConfig.DNS = nil
	ep = dnsEndpoint(c, "net1", nil, []netip.Addr{addr}, []byte("nameserver 127.0.0.53\n"))
	assert.Check(t, ep.Upstreams == nil, "without --dns the network's upstreams apply")
}

func TestLinkStrings(t *testing.T) {
	t.Parallel()
	assert.Check(t, is.DeepEqual(linkStrings("/web", [][2]string{{"db", "mydb"}, {"cache", "cache"}}), []string{"/db:/web/mydb", "/cache:/web/cache"}))
	assert.Check(t, linkStrings("/web", nil) == nil)
}
