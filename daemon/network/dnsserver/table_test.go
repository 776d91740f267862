package dnsserver

import (
	"net/netip"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

var (
	ipWeb   = netip.MustParseAddr("10.1.0.2")
	ipDB    = netip.MustParseAddr("10.1.0.3")
	ipDB2   = netip.MustParseAddr("10.1.0.4")
	ipOther = netip.MustParseAddr("10.2.0.2")
	ipWeb2  = netip.MustParseAddr("10.2.0.9")
)

// equateAddrs compares netip values by value.
var equateAddrs = gocmp.Options{
	gocmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	gocmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
}

func testTable() *Table {
	t := NewTable()
	t.Add(Endpoint{Network: "n1", Container: "web", Names: []string{"web", "Frontend"}, Addrs: []netip.Addr{ipWeb}, Links: map[string]string{"DataBase": "db"}})
	t.Add(Endpoint{Network: "n1", Container: "db", Names: []string{"db", "cache"}, Addrs: []netip.Addr{ipDB}})
	t.Add(Endpoint{Network: "n1", Container: "db2", Names: []string{"db2", "cache"}, Addrs: []netip.Addr{ipDB2}})
	t.Add(Endpoint{Network: "n2", NetworkName: "back.end", Container: "other", Names: []string{"other"}, Addrs: []netip.Addr{ipOther}})
	t.Add(Endpoint{Network: "n2", Container: "web", Names: []string{"web"}, Addrs: []netip.Addr{ipWeb2}})
	return t
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tbl := testTable()
	tests := []struct {
		name    string
		network string
		client  netip.Addr
		query   string
		want    Answer
	}{
		{"name", "n1", ipWeb, "db.", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipDB}}},
		{"case-insensitive", "n1", ipWeb, "DB", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipDB}}},
		{"alias given in mixed case", "n1", ipDB, "frontend.", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipWeb}}},
		{"shared alias has every address", "n1", ipWeb, "cache.", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipDB, ipDB2}}},
		{"link alias of the client", "n1", ipWeb, "database.", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipDB}}},
		{"link alias is the linker's only", "n1", ipDB, "database.", Answer{Client: true}},
		{"unknown", "n1", ipWeb, "nothere.", Answer{Client: true}},
		{"other network invisible", "n1", ipDB, "other.", Answer{Client: true}},
		{"client's second network", "n1", ipWeb, "other.", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipOther}}},
		{"server's network first", "n2", ipOther, "web.", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipWeb2}}},
		{"name.network", "n1", ipWeb, "other.back.end.", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipOther}}},
		{"name.network of the right network only", "n2", ipOther, "web.back.end", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipWeb2}}},
		{"name.network not the client's", "n1", ipDB, "other.back.end.", Answer{Client: true}},
		{"stranger", "n1", ipOther, "db.", Answer{}},
		{"stranger by network", "n2", ipDB, "other.", Answer{}},
		{"v4-mapped client", "n1", netip.AddrFrom16(ipWeb.As16()), "db", Answer{Client: true, Known: true, Addrs: []netip.Addr{ipDB}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tbl.Lookup(tc.network, tc.client, tc.query)
			assert.DeepEqual(t, got, tc.want, equateAddrs)
		})
	}
}

func TestAddReplacesRemoveForgets(t *testing.T) {
	t.Parallel()
	tbl := testTable()
	moved := netip.MustParseAddr("10.1.0.77")
	tbl.Add(Endpoint{Network: "n1", Container: "db", Names: []string{"db"}, Addrs: []netip.Addr{moved}})
	got := tbl.Lookup("n1", ipWeb, "db")
	assert.DeepEqual(t, got.Addrs, []netip.Addr{moved}, equateAddrs)
	assert.Check(t, is.DeepEqual(tbl.Lookup("n1", ipWeb, "cache").Addrs, []netip.Addr{ipDB2}, equateAddrs), "the replaced endpoint lost its old alias")

	tbl.Remove("n1", "db2")
	assert.Check(t, !tbl.Lookup("n1", ipWeb, "cache").Known)
	tbl.Remove("n1", "web")
	assert.Check(t, !tbl.Lookup("n1", ipWeb, "db").Client, "a removed endpoint is no client")
	tbl.RemoveNetwork("n2")
	assert.Check(t, !tbl.Lookup("n2", ipOther, "other").Client)
}

func TestAddCopies(t *testing.T) {
	t.Parallel()
	tbl := NewTable()
	names := []string{"a"}
	tbl.Add(Endpoint{Network: "n", Container: "c", Names: names, Addrs: []netip.Addr{ipWeb}})
	names[0] = "b"
	assert.Check(t, tbl.Lookup("n", ipWeb, "a").Known)
}

func TestReverse(t *testing.T) {
	t.Parallel()
	tbl := testTable()
	name, a := tbl.Reverse("n1", ipWeb, ipDB2)
	assert.Check(t, is.Equal(name, "db2"))
	assert.Check(t, a.Client && a.Known)
	name, a = tbl.Reverse("n1", ipDB, ipOther)
	assert.Check(t, is.Equal(name, ""))
	assert.Check(t, a.Client && !a.Known)
	_, a = tbl.Reverse("n1", ipOther, ipDB)
	assert.Check(t, !a.Client)
}

func TestReverseAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"4.3.2.10.in-addr.arpa.", "10.2.3.4"},
		{"4.3.2.10.IN-ADDR.ARPA", "10.2.3.4"},
		{"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa.", "4321:0:1:2:3:4:567:89ab"},
		{"3.2.10.in-addr.arpa.", ""},
		{"4.3.2.300.in-addr.arpa.", ""},
		{"example.com.", ""},
		{"bb.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.ip6.arpa.", ""},
	}
	for _, tc := range tests {
		got, ok := reverseAddr(tc.in)
		if tc.want == "" {
			assert.Check(t, !ok, tc.in)
			continue
		}
		assert.Check(t, ok, tc.in)
		assert.Check(t, is.Equal(got, netip.MustParseAddr(tc.want)), tc.in)
	}
}

func FuzzReverseAddr(f *testing.F) {
	f.Add("4.3.2.10.in-addr.arpa.")
	f.Add("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa.")
	f.Fuzz(func(t *testing.T, name string) {
		addr, ok := reverseAddr(name)
		if ok && !slices.Contains([]bool{addr.Is4(), addr.Is6()}, true) {
			t.Fatalf("%q parsed to %v", name, addr)
		}
	})
}

func TestDNSNames(t *testing.T) {
	t.Parallel()
	assert.Check(t, is.DeepEqual(DNSNames("/web", "0123456789abcdef", "0123456789ab", []string{"api", "web"}), []string{"web", "api", "0123456789ab"}))
	assert.Check(t, is.DeepEqual(DNSNames("web", "short", "", nil), []string{"web"}))
}
