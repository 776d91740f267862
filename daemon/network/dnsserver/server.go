package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// TTL of the answers for container names, as Docker's (600 s).
const TTL = 600

// DefaultTimeout bounds one forwarded query per upstream, as Docker's
// embedded server does (4 s).
const DefaultTimeout = 4 * time.Second

// maxForwards bounds the forwarded queries in flight: a container flooding
// its server gets SERVFAIL instead of holding unbounded goroutines.
const maxForwards = 100

// Config is one network's server.
type Config struct {
	// Network is the ID of the network whose endpoints are answered.
	Network string
	// Addr is the listen address, UDP and TCP: the network's gateway
	// address with port 53 (port 0 picks a free port, for tests).
	Addr netip.AddrPort
	// Upstreams receive the names that are not containers'. They may be
	// on the host's loopback (systemd-resolved's 127.0.0.53): the server
	// runs in the host's network namespace. Empty: such names get
	// NXDOMAIN (an --internal network).
	Upstreams []netip.AddrPort
	// Timeout bounds each forwarded query per upstream (0: DefaultTimeout).
	Timeout time.Duration
}

// Server answers DNS queries for one network.
type Server struct {
	table   *Table
	cfg     Config
	udp     *dns.Server
	tcp     *dns.Server
	forward chan struct{} // semaphore of forwarded queries
}

// Start listens on cfg.Addr (UDP and TCP) and serves names from table
// until Close.
func Start(table *Table, cfg Config) (*Server, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	s := &Server{table: table, cfg: cfg, forward: make(chan struct{}, maxForwards)}
	pc, l, err := listen(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("DNS server of network %s: %w", cfg.Network, err)
	}
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: l, Handler: s}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		failed := make(chan error, 1)
		go func() { failed <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-failed:
			s.Close()
			return nil, fmt.Errorf("DNS server of network %s: %w", cfg.Network, err)
		}
	}
	return s, nil
}

// listen opens UDP and TCP on addr. TCP takes the port UDP got, so that
// port 0 gives one port for both; another program may hold that port for
// TCP, and port 0 then tries a few other ports.
func listen(addr netip.AddrPort) (net.PacketConn, net.Listener, error) {
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp", addr.String())
		if err != nil {
			return nil, nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		if addr.Port() != 0 || attempt == 10 {
			return nil, nil, err
		}
	}
}

// Addr is the address the server listens on (UDP and TCP).
func (s *Server) Addr() netip.AddrPort {
	return s.udp.PacketConn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Close stops the server and releases its sockets.
func (s *Server) Close() error {
	var errs []error
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		if srv == nil {
			continue
		}
		if err := srv.Shutdown(); err != nil {
			// Not started: close the socket it would have served.
			if srv.PacketConn != nil {
				errs = append(errs, srv.PacketConn.Close())
			}
			if srv.Listener != nil {
				errs = append(errs, srv.Listener.Close())
			}
		}
	}
	return errors.Join(errs...)
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	client := remoteAddr(w.RemoteAddr())
	if len(r.Question) != 1 || r.Opcode != dns.OpcodeQuery {
		reply(w, r, dns.RcodeFormatError)
		return
	}
	q := r.Question[0]
	switch q.Qtype {
	case dns.TypePTR:
		s.answerPTR(w, r, client)
	default:
		a := s.table.Lookup(s.cfg.Network, client, q.Name)
		if !a.Client {
			reply(w, r, dns.RcodeRefused)
			return
		}
		if a.Known {
			s.answerAddrs(w, r, a.Addrs)
			return
		}
		s.forwardQuery(w, r, a.Upstreams)
	}
}

// answerAddrs answers for a container's name: its addresses of the asked
// family, shuffled (round robin as Docker's); a name without addresses of
// that family, or another query type, gets an empty NOERROR, so that the
// client does not look further.
func (s *Server) answerAddrs(w dns.ResponseWriter, r *dns.Msg, addrs []netip.Addr) {
	q := r.Question[0]
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	m.RecursionAvailable = true
	rand.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	for _, addr := range addrs {
		hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: TTL}
		switch {
		case q.Qtype == dns.TypeA && addr.Is4():
			hdr.Rrtype = dns.TypeA
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: addr.AsSlice()})
		case q.Qtype == dns.TypeAAAA && addr.Is6():
			hdr.Rrtype = dns.TypeAAAA
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: addr.AsSlice()})
		}
	}
	write(w, r, m)
}

// answerPTR answers a reverse query for a container's address and
// forwards the others.
func (s *Server) answerPTR(w dns.ResponseWriter, r *dns.Msg, client netip.Addr) {
	q := r.Question[0]
	addr, _ := reverseAddr(q.Name) // not one: no endpoint has the zero Addr
	name, a := s.table.Reverse(s.cfg.Network, client, addr)
	switch {
	case !a.Client:
		reply(w, r, dns.RcodeRefused)
		return
	case !a.Known:
		s.forwardQuery(w, r, a.Upstreams)
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	m.RecursionAvailable = true
	m.Answer = append(m.Answer, &dns.PTR{
		Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: TTL},
		Ptr: dns.Fqdn(name),
	})
	write(w, r, m)
}

// reverseAddr parses the name of a PTR query (4.3.2.1.in-addr.arpa. or
// the nibbles of ip6.arpa.).
func reverseAddr(name string) (netip.Addr, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		parts := strings.Split(rest, ".")
		if len(parts) != 4 {
			return netip.Addr{}, false
		}
		slices.Reverse(parts)
		addr, err := netip.ParseAddr(strings.Join(parts, "."))
		return addr, err == nil && addr.Is4()
	}
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		nibbles := strings.Split(rest, ".")
		if len(nibbles) != 32 {
			return netip.Addr{}, false
		}
		slices.Reverse(nibbles)
		var b strings.Builder
		for i, n := range nibbles {
			if len(n) != 1 {
				return netip.Addr{}, false
			}
			if i > 0 && i%4 == 0 {
				b.WriteByte(':')
			}
			b.WriteString(n)
		}
		addr, err := netip.ParseAddr(b.String())
		return addr, err == nil && addr.Is6()
	}
	return netip.Addr{}, false
}

// forwardQuery sends the query to the upstreams in turn, over the
// client's protocol, and relays the first answer. Without upstreams the
// name does not exist; when none answers, SERVFAIL.
func (s *Server) forwardQuery(w dns.ResponseWriter, r *dns.Msg, upstreams []netip.AddrPort) {
	if upstreams == nil {
		upstreams = s.cfg.Upstreams
	}
	if len(upstreams) == 0 {
		reply(w, r, dns.RcodeNameError)
		return
	}
	select {
	case s.forward <- struct{}{}:
		defer func() { <-s.forward }()
	default:
		reply(w, r, dns.RcodeServerFailure)
		return
	}
	proto := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		proto = "tcp"
	}
	c := &dns.Client{Net: proto, Timeout: s.cfg.Timeout}
	for _, up := range upstreams {
		resp, _, err := c.ExchangeContext(context.Background(), r, up.String())
		if err != nil || resp == nil {
			continue
		}
		resp.Id = r.Id
		write(w, r, resp)
		return
	}
	reply(w, r, dns.RcodeServerFailure)
}

// write sends m, truncated to what a UDP client can take.
func write(w dns.ResponseWriter, r *dns.Msg, m *dns.Msg) {
	if _, ok := w.RemoteAddr().(*net.UDPAddr); ok {
		size := dns.MinMsgSize
		if opt := r.IsEdns0(); opt != nil {
			size = max(int(opt.UDPSize()), dns.MinMsgSize)
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

func reply(w dns.ResponseWriter, r *dns.Msg, rcode int) {
	m := new(dns.Msg)
	m.SetRcode(r, rcode)
	m.RecursionAvailable = true
	_ = w.WriteMsg(m)
}

func remoteAddr(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
