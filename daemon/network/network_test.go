package network

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	networktypes "github.com/moby/moby/api/types/network"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestConfList(t *testing.T) {
	t.Parallel()
	n := Network{Name: "front", ID: "0123456789abcdef0123", Driver: "bridge", Bridge: "berth-012345678",
		Subnet: netip.MustParsePrefix("10.1.2.0/24"), Gateway: netip.MustParseAddr("10.1.2.1"), IPRange: netip.MustParsePrefix("10.1.2.128/25")}
	for _, tc := range []struct {
		internal, publish  bool
		plugins            int
		masq, defaultRoute bool
	}{
		{publish: true, plugins: 2, defaultRoute: true},
		{plugins: 1, defaultRoute: true},
		{internal: true, plugins: 1},
	} {
		n.Internal = tc.internal
		data, err := ConfList(n, "/data/ipam", tc.publish)
		assert.NilError(t, err)
		var got struct {
			CNIVersion, Name string
			Plugins          []map[string]any
		}
		assert.NilError(t, json.Unmarshal(data, &got))
		assert.Equal(t, got.Name, "berth-0123456789ab")
		assert.Equal(t, got.CNIVersion, "1.0.0")
		assert.Check(t, is.Len(got.Plugins, tc.plugins))
		br := got.Plugins[0]
		assert.Equal(t, br["type"], "bridge")
		assert.Equal(t, br["bridge"], "berth-012345678")
		assert.Equal(t, br["ipMasq"], tc.masq)
		assert.Equal(t, br["isDefaultGateway"], tc.defaultRoute)
		ipam := br["ipam"].(map[string]any)
		assert.Equal(t, ipam["dataDir"], "/data/ipam")
		rng := ipam["ranges"].([]any)[0].([]any)[0].(map[string]any)
		assert.DeepEqual(t, rng, map[string]any{"subnet": "10.1.2.0/24", "gateway": "10.1.2.1", "rangeStart": "10.1.2.128", "rangeEnd": "10.1.2.254"})
		if tc.plugins == 2 {
			assert.Equal(t, got.Plugins[1]["type"], "portmap")
			assert.Equal(t, got.Plugins[1]["snat"], true)
		}
	}
	_, err := ConfList(Network{Name: "x", ID: "0123456789abcdef"}, "/d", false)
	assert.ErrorContains(t, err, "no subnet")
}

func TestPortRequests(t *testing.T) {
	t.Parallel()
	p80 := networktypes.MustParsePort("80/tcp")
	p53 := networktypes.MustParsePort("53/udp")
	p90 := networktypes.MustParsePort("90/tcp")
	lo := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		name       string
		bindings   networktypes.PortMap
		exposed    networktypes.PortSet
		publishAll bool
		want       []PortRequest
		err        string
	}{
		{name: "loopback", bindings: networktypes.PortMap{p80: {{HostIP: lo, HostPort: "8080"}}},
			want: []PortRequest{{HostIP: lo, HostPort: 8080, HostPortEnd: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{name: "range and any", bindings: networktypes.PortMap{p80: {{HostPort: "8000-8010"}}, p53: {{}}},
			want: []PortRequest{{ContainerPort: 53, Proto: "udp"}, {HostPort: 8000, HostPortEnd: 8010, ContainerPort: 80, Proto: "tcp"}}},
		{name: "publish all", bindings: networktypes.PortMap{p80: {{HostPort: "1"}}}, exposed: networktypes.PortSet{p80: {}, p90: {}}, publishAll: true,
			want: []PortRequest{{HostPort: 1, HostPortEnd: 1, ContainerPort: 80, Proto: "tcp"}, {ContainerPort: 90, Proto: "tcp"}}},
		{name: "exposed only", exposed: networktypes.PortSet{p90: {}}},
		{name: "bad port", bindings: networktypes.PortMap{p80: {{HostPort: "x"}}}, err: `invalid host port "x"`},
		{name: "bad range", bindings: networktypes.PortMap{p80: {{HostPort: "9-8"}}}, err: "not a port range"},
		{name: "sctp", bindings: networktypes.PortMap{networktypes.MustParsePort("80/sctp"): {{}}}, err: "tcp and udp ports only"},
		{name: "ipv6", bindings: networktypes.PortMap{p80: {{HostIP: netip.MustParseAddr("::1")}}}, err: "IPv4 addresses only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := PortRequests(tc.bindings, tc.exposed, tc.publishAll)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, len(got), len(tc.want))
			for i := range got {
				assert.Check(t, got[i] == tc.want[i], "%d: %+v != %+v", i, got[i], tc.want[i])
			}
		})
	}
}

func TestHoldRefusesATakenPort(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	h, err := Hold([]PortRequest{{HostIP: lo, ContainerPort: 80, Proto: "tcp"}, {HostIP: lo, ContainerPort: 53, Proto: "udp"}})
	assert.NilError(t, err)
	defer h.Close()
	port := h.Mappings[0].HostPort
	assert.Check(t, port != 0)
	assert.Check(t, h.Mappings[1].HostPort != 0)
	_, err = Hold([]PortRequest{{HostIP: lo, HostPort: port, HostPortEnd: port, ContainerPort: 80, Proto: "tcp"}})
	assert.Error(t, err, "Bind for 127.0.0.1:"+itoa(port)+" failed: port is already allocated")
	// A range skips the taken port (unless the next one is taken too).
	if h2, err := Hold([]PortRequest{{HostIP: lo, HostPort: port, HostPortEnd: port + 1, ContainerPort: 80, Proto: "tcp"}}); err == nil {
		assert.Equal(t, h2.Mappings[0].HostPort, port+1)
		h2.Close()
	}
}

func itoa(p uint16) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), p).String()[len("0.0.0.0:"):]
}

func TestAPIPorts(t *testing.T) {
	t.Parallel()
	p80 := networktypes.MustParsePort("80/tcp")
	p81 := networktypes.MustParsePort("81/tcp")
	got := APIPorts(networktypes.PortSet{p80: {}, p81: {}}, []PortMapping{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}})
	assert.Check(t, is.Len(got, 2))
	assert.Check(t, is.Len(got[p81], 0))
	assert.Equal(t, got[p80][0].HostIP.String()+":"+got[p80][0].HostPort, "0.0.0.0:8080")
}

func TestPool(t *testing.T) {
	t.Parallel()
	p, err := ParsePool("base=10.9.0.0/16,size=24")
	assert.NilError(t, err)
	got, err := p.Next([]netip.Prefix{netip.MustParsePrefix("10.9.0.0/24"), netip.MustParsePrefix("10.9.1.128/25")})
	assert.NilError(t, err)
	assert.Equal(t, got.String(), "10.9.2.0/24")
	small, err := ParsePool("base=10.9.0.0/24,size=25")
	assert.NilError(t, err)
	_, err = small.Next([]netip.Prefix{netip.MustParsePrefix("10.9.0.0/24")})
	assert.ErrorContains(t, err, "could not find an available")
	for _, bad := range []string{"base=10.9.0.0/16", "base=x,size=24", "size=24", "base=10.9.0.0/16,size=8", "base=10.9.0.0/16,size=24,x=1"} {
		_, err := ParsePool(bad)
		assert.Check(t, err != nil, bad)
	}
	sub, gw, err := ParseBIP("172.17.0.1/16")
	assert.NilError(t, err)
	assert.Equal(t, sub.String()+" "+gw.String(), "172.17.0.0/16 172.17.0.1")
	for _, bad := range []string{"172.17.0.0/16", "172.17.0.1", "::1/64", "10.0.0.1/31"} {
		_, _, err := ParseBIP(bad)
		assert.Check(t, err != nil, bad)
	}
}

func TestLastAddr(t *testing.T) {
	t.Parallel()
	assert.Equal(t, lastAddr(netip.MustParsePrefix("10.0.0.0/24")).String(), "10.0.0.254")
	assert.Equal(t, lastAddr(netip.MustParsePrefix("10.0.0.32/27")).String(), "10.0.0.62")
}

func TestIsolationRules(t *testing.T) {
	t.Parallel()
	join := func(rs []rule) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.chain+" "+strings.Join(r.spec, " "))
		}
		return strings.Join(out, "\n")
	}
	n := Network{Bridge: "b1", Subnet: netip.MustParsePrefix("10.1.0.0/24")}
	assert.Equal(t, join(networkRules(n)), "BERTH-ISOLATION-STAGE-1 -i b1 ! -o b1 -j BERTH-ISOLATION-STAGE-2\nBERTH-ISOLATION-STAGE-2 -o b1 -j DROP\nPOSTROUTING -s 10.1.0.0/24 ! -o b1 -j MASQUERADE")
	n.Internal = true
	assert.Equal(t, join(networkRules(n)), "BERTH-ISOLATION-STAGE-1 -i b1 ! -o b1 -j DROP\nBERTH-ISOLATION-STAGE-1 ! -i b1 -o b1 -j DROP")
	assert.DeepEqual(t, masqueradeRule(Network{Bridge: "b1", Subnet: netip.MustParsePrefix("10.1.0.0/24")}).args("-D"),
		[]string{"-t", "nat", "-D", "POSTROUTING", "-s", "10.1.0.0/24", "!", "-o", "b1", "-j", "MASQUERADE"})
}

func FuzzPortRequests(f *testing.F) {
	f.Add("8080", "80/tcp")
	f.Add("8000-8010", "53/udp")
	f.Fuzz(func(t *testing.T, hostPort, port string) {
		p, err := networktypes.ParsePort(port)
		if err != nil {
			return
		}
		reqs, err := PortRequests(networktypes.PortMap{p: {{HostPort: hostPort}}}, nil, false)
		if err != nil {
			return
		}
		for _, r := range reqs {
			if r.HostPortEnd < r.HostPort {
				t.Fatalf("range %d-%d", r.HostPort, r.HostPortEnd)
			}
		}
	})
}
