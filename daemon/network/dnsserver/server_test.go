package dnsserver

import (
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// Everything here listens and sends on loopback only: the client is
// 127.0.0.1 (an endpoint of the network), the stranger 127.0.0.2.
var (
	loopback = netip.MustParseAddr("127.0.0.1")
	stranger = netip.MustParseAddr("127.0.0.2")
)

// fakeUpstream is a second DNS server on loopback: it knows
// ext.example. (192.0.2.1) and says NXDOMAIN for the rest.
func fakeUpstream(t *testing.T, answer string) netip.AddrPort {
	t.Helper()
	pc, l, err := listen(netip.AddrPortFrom(loopback, 0))
	assert.NilError(t, err)
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		if q := r.Question[0]; q.Name == "ext.example." && q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(answer)})
		} else {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func startServer(t *testing.T, table *Table, upstreams ...netip.AddrPort) netip.AddrPort {
	t.Helper()
	srv, err := Start(table, Config{Network: "n1", Addr: netip.AddrPortFrom(loopback, 0), Upstreams: upstreams})
	assert.NilError(t, err)
	t.Cleanup(func() { assert.Check(t, srv.Close()) })
	return srv.Addr()
}

func query(t *testing.T, server netip.AddrPort, proto, name string, qtype uint16, from netip.Addr) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: proto}
	switch proto {
	case "udp":
		c.Dialer = &net.Dialer{LocalAddr: net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0))}
	case "tcp":
		c.Dialer = &net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))}
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	resp, _, err := c.Exchange(m, server.String())
	assert.NilError(t, err)
	return resp
}

func addrsOf(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		case *dns.PTR:
			out = append(out, rr.Ptr)
		}
	}
	slices.Sort(out)
	return out
}

func networkTable() *Table {
	table := NewTable()
	table.Add(Endpoint{Network: "n1", Container: "client", Names: []string{"client"}, Addrs: []netip.Addr{loopback}, Links: map[string]string{"mydb": "db"}})
	table.Add(Endpoint{Network: "n1", Container: "db", Names: []string{"db", "redis"}, Addrs: []netip.Addr{netip.MustParseAddr("10.1.0.3"), netip.MustParseAddr("fd00::3")}})
	table.Add(Endpoint{Network: "n1", Container: "db2", Names: []string{"db2", "redis"}, Addrs: []netip.Addr{netip.MustParseAddr("10.1.0.4")}})
	return table
}

func TestServerAnswersNames(t *testing.T) {
	t.Parallel()
	table := networkTable()
	server := startServer(t, table, fakeUpstream(t, "192.0.2.1"))
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			tests := []struct {
				name  string
				qtype uint16
				rcode int
				want  []string
			}{
				{"db.", dns.TypeA, dns.RcodeSuccess, []string{"10.1.0.3"}},
				{"DB.", dns.TypeA, dns.RcodeSuccess, []string{"10.1.0.3"}},
				{"db.", dns.TypeAAAA, dns.RcodeSuccess, []string{"fd00::3"}},
				{"db2.", dns.TypeAAAA, dns.RcodeSuccess, nil}, // known, no IPv6: no data, not NXDOMAIN
				{"redis.", dns.TypeA, dns.RcodeSuccess, []string{"10.1.0.3", "10.1.0.4"}},
				{"mydb.", dns.TypeA, dns.RcodeSuccess, []string{"10.1.0.3"}},
				{"db.", dns.TypeMX, dns.RcodeSuccess, nil},
				{"3.0.1.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"db."}},
				{"ext.example.", dns.TypeA, dns.RcodeSuccess, []string{"192.0.2.1"}},
				{"nothere.", dns.TypeA, dns.RcodeNameError, nil},
				{"9.9.1.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil},
			}
			for _, tc := range tests {
				resp := query(t, server, proto, tc.name, tc.qtype, loopback)
				assert.Check(t, is.Equal(dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.rcode]), "%s %s", tc.name, dns.TypeToString[tc.qtype])
				assert.Check(t, is.DeepEqual(addrsOf(resp), tc.want), "%s %s", tc.name, dns.TypeToString[tc.qtype])
			}
		})
	}
}

func TestServerRefusesStrangers(t *testing.T) {
	t.Parallel()
	server := startServer(t, networkTable(), fakeUpstream(t, "192.0.2.1"))
	for _, name := range []string{"db.", "ext.example."} {
		resp := query(t, server, "udp", name, dns.TypeA, stranger)
		assert.Check(t, is.Equal(resp.Rcode, dns.RcodeRefused), name)
		assert.Check(t, is.Len(resp.Answer, 0), name)
	}
}

func TestServerFollowsTable(t *testing.T) {
	t.Parallel()
	table := networkTable()
	server := startServer(t, table) // no upstreams: an internal network
	table.Remove("n1", "db")
	resp := query(t, server, "udp", "db.", dns.TypeA, loopback)
	assert.Check(t, is.Equal(resp.Rcode, dns.RcodeNameError))
	resp = query(t, server, "udp", "redis.", dns.TypeA, loopback)
	assert.Check(t, is.DeepEqual(addrsOf(resp), []string{"10.1.0.4"}))
	resp = query(t, server, "udp", "ext.example.", dns.TypeA, loopback)
	assert.Check(t, is.Equal(resp.Rcode, dns.RcodeNameError), "without upstreams nothing is forwarded")

	table.Add(Endpoint{Network: "n1", Container: "db", Names: []string{"db"}, Addrs: []netip.Addr{netip.MustParseAddr("10.1.0.30")}})
	resp = query(t, server, "udp", "db.", dns.TypeA, loopback)
	assert.Check(t, is.DeepEqual(addrsOf(resp), []string{"10.1.0.30"}))
}

func TestServerClientUpstreams(t *testing.T) {
	t.Parallel()
	table := networkTable()
	mine := fakeUpstream(t, "192.0.2.99")
	server := startServer(t, table, fakeUpstream(t, "192.0.2.1"))
	table.Add(Endpoint{Network: "n1", Container: "client", Names: []string{"client"}, Addrs: []netip.Addr{loopback}, Upstreams: []netip.AddrPort{mine}})
	resp := query(t, server, "tcp", "ext.example.", dns.TypeA, loopback)
	assert.Check(t, is.DeepEqual(addrsOf(resp), []string{"192.0.2.99"}))
}

func TestServerUpstreamDown(t *testing.T) {
	t.Parallel()
	// A port that was just free: nothing answers there.
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	assert.NilError(t, err)
	dead := l.LocalAddr().(*net.UDPAddr).AddrPort()
	l.Close()
	server := startServer(t, networkTable(), dead)
	resp := query(t, server, "tcp", "ext.example.", dns.TypeA, loopback)
	assert.Check(t, is.Equal(resp.Rcode, dns.RcodeServerFailure))
}

func TestStartAddressInUse(t *testing.T) {
	t.Parallel()
	first := startServer(t, NewTable())
	_, err := Start(NewTable(), Config{Network: "n2", Addr: first})
	assert.ErrorContains(t, err, "address already in use")
	assert.ErrorContains(t, err, "network n2")
}

func TestServers(t *testing.T) {
	t.Parallel()
	s := NewServers()
	t.Cleanup(func() { assert.Check(t, s.Close()) })
	s.Table.Add(Endpoint{Network: "n1", Container: "client", Names: []string{"client"}, Addrs: []netip.Addr{loopback}})
	s.Table.Add(Endpoint{Network: "n1", Container: "db", Names: []string{"db"}, Addrs: []netip.Addr{netip.MustParseAddr("10.1.0.3")}})
	assert.NilError(t, s.StartNetwork(Config{Network: "n1", Addr: netip.AddrPortFrom(loopback, 0)}))
	s.mu.Lock()
	addr := s.servers["n1"].Addr()
	s.mu.Unlock()
	assert.NilError(t, s.StartNetwork(Config{Network: "n1", Addr: netip.AddrPortFrom(loopback, 0)}), "started twice: kept")
	resp := query(t, addr, "udp", "db.", dns.TypeA, loopback)
	assert.Check(t, is.DeepEqual(addrsOf(resp), []string{"10.1.0.3"}))

	assert.NilError(t, s.StopNetwork("n1"))
	assert.Check(t, !s.Table.Lookup("n1", loopback, "db").Client, "a stopped network's endpoints are forgotten")
	// The port is free again: nothing listens.
	l, err := net.ListenPacket("udp", addr.String())
	assert.NilError(t, err)
	l.Close()
	assert.NilError(t, s.StopNetwork("n1"))
}
