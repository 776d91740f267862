package netfiles

import (
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
	gocmp "github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func TestBuildHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Hosts
		want string // after the fixed head
		err  string
	}{
		{name: "no address", in: Hosts{Hostname: "c0ffee"}, want: "127.0.1.1\tc0ffee\n"},
		{name: "own address", in: Hosts{Hostname: "c0ffee", Addrs: addrs("172.17.0.2")}, want: "172.17.0.2\tc0ffee\n"},
		{name: "two networks", in: Hosts{Hostname: "web", Addrs: addrs("172.18.0.2", "172.19.0.2")}, want: "172.18.0.2\tweb\n172.19.0.2\tweb\n"},
		{name: "domainname", in: Hosts{Hostname: "web", Domainname: "example.com", Addrs: addrs("172.17.0.2")}, want: "172.17.0.2\tweb.example.com web\n"},
		{name: "fqdn hostname", in: Hosts{Hostname: "web.example", Addrs: addrs("172.17.0.2")}, want: "172.17.0.2\tweb.example web\n"},
		{
			name: "add-host, links, own last",
			in: Hosts{
				Hostname:    "web",
				Addrs:       addrs("172.17.0.4"),
				ExtraHosts:  []string{"db.local:10.0.0.5", "v6:fd00::1", "gw:host-gateway"},
				HostGateway: netip.MustParseAddr("172.17.0.1"),
				Links: []Link{
					{Alias: "mydb", Name: "db", Hostname: "a1b2c3d4e5f6", Addrs: addrs("172.17.0.2")},
					{Alias: "cache", Name: "cache", Hostname: "cafe00000000", Addrs: addrs("172.17.0.3")},
					{Alias: "gone", Name: "gone"}, // no address: no line
				},
			},
			want: "10.0.0.5\tdb.local\nfd00::1\tv6\n172.17.0.1\tgw\n" +
				"172.17.0.2\tmydb a1b2c3d4e5f6 db\n172.17.0.3\tcache cafe00000000\n" +
				"172.17.0.4\tweb\n",
		},
		{name: "host-gateway unknown", in: Hosts{Hostname: "web", ExtraHosts: []string{"gw:host-gateway"}}, err: "unable to derive the IP value for host-gateway"},
		{name: "bad add-host", in: Hosts{Hostname: "web", ExtraHosts: []string{"nocolon"}}, err: `bad format for add-host: "nocolon"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := BuildHosts(tc.in)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				assert.Check(t, errdefs.IsInvalidArgument(err))
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, string(got), defaultHosts+tc.want)
		})
	}
}

func TestBuildHostsHostNetwork(t *testing.T) {
	t.Parallel()
	got, err := BuildHosts(Hosts{Hostname: "h", HostNetwork: true, HostFile: []byte("127.0.0.1 localhost\n10.1.1.1 nas"), ExtraHosts: []string{"x:1.2.3.4"}, Addrs: addrs("10.9.9.9")})
	assert.NilError(t, err)
	assert.Equal(t, string(got), "127.0.0.1 localhost\n10.1.1.1 nas\n1.2.3.4\tx\n")
}

func TestParseExtraHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, name, ip, err string }{
		{in: "a:1.2.3.4", name: "a", ip: "1.2.3.4"},
		{in: "a:::1", name: "a", ip: "::1"},
		{in: "a:[fd00::2]", name: "a", ip: "fd00::2"},
		{in: "a:host-gateway", name: "a", ip: "host-gateway"},
		{in: ":1.2.3.4", err: "bad format for add-host"},
		{in: "a", err: "bad format for add-host"},
		{in: "a b:1.2.3.4", err: "bad format for add-host"},
		{in: "a:1.2.3", err: `invalid IP address in add-host: "1.2.3"`},
		{in: "a:", err: "invalid IP address in add-host"},
	}
	for _, tc := range tests {
		name, ip, err := ParseExtraHost(tc.in)
		if tc.err != "" {
			assert.Check(t, is.ErrorContains(err, tc.err), tc.in)
			continue
		}
		assert.Check(t, err, tc.in)
		assert.Check(t, is.Equal(name, tc.name), tc.in)
		assert.Check(t, is.Equal(ip, tc.ip), tc.in)
	}
}

func TestParseLink(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, name, alias, err string }{
		{in: "db", name: "db", alias: "db"},
		{in: "db:mydb", name: "db", alias: "mydb"},
		{in: "/db:/web/mydb", name: "db", alias: "mydb"},
		{in: "", err: "empty string specified for links"},
		{in: "a:b:c", err: "bad format for links: a:b:c"},
		{in: ":x", err: "bad format for links"},
		{in: "x:", err: "bad format for links"},
		{in: "x:a/b", err: "bad format for links"},
	}
	for _, tc := range tests {
		name, alias, err := ParseLink(tc.in)
		if tc.err != "" {
			assert.Check(t, is.ErrorContains(err, tc.err), tc.in)
			continue
		}
		assert.Check(t, err, tc.in)
		assert.Check(t, is.Equal(name, tc.name), tc.in)
		assert.Check(t, is.Equal(alias, tc.alias), tc.in)
		assert.Check(t, is.Equal(LinkString(name, "/web", alias), "/"+tc.name+":/web/"+tc.alias))
	}
}

func FuzzParseLink(f *testing.F) {
	for _, s := range []string{"db", "db:mydb", "/db:/web/mydb", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, alias, err := ParseLink(s)
		if err != nil {
			return
		}
		// What create stores must parse back to the same link.
		n2, a2, err := ParseLink(LinkString(name, "/parent", alias))
		if err != nil || n2 != name || a2 != alias {
			t.Fatalf("%q: (%q, %q) round-trips to (%q, %q, %v)", s, name, alias, n2, a2, err)
		}
	})
}

func FuzzParseExtraHost(f *testing.F) {
	for _, s := range []string{"a:1.2.3.4", "a:::1", "a:host-gateway", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, ip, err := ParseExtraHost(s)
		if err != nil {
			return
		}
		// A valid entry makes one hosts line.
		out, err := BuildHosts(Hosts{HostNetwork: true, ExtraHosts: []string{name + ":" + ip}, HostGateway: netip.MustParseAddr("10.0.0.1")})
		if err != nil || len(out) == 0 || out[len(out)-1] != '\n' || countLines(out) != 1 {
			t.Fatalf("%q makes %q, %v", s, out, err)
		}
	})
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

func TestBuildResolvConf(t *testing.T) {
	t.Parallel()
	const host = "# generated\nnameserver 10.0.0.53\nnameserver 127.0.0.53\nnameserver fd00::53\nsearch corp.example\noptions edns0 timeout:2\n"
	tests := []struct {
		name string
		in   Resolv
		want string
	}{
		{"host's without loopback and IPv6", Resolv{HostFile: []byte(host)}, "# generated\nnameserver 10.0.0.53\nsearch corp.example\noptions edns0 timeout:2\n"},
		{"IPv6 kept with IPv6", Resolv{HostFile: []byte(host), IPv6: true}, "# generated\nnameserver 10.0.0.53\nnameserver fd00::53\nsearch corp.example\noptions edns0 timeout:2\n"},
		{"host network verbatim", Resolv{HostFile: []byte(host), HostNetwork: true}, host},
		{"only loopback left: Docker's defaults", Resolv{HostFile: []byte("nameserver 127.0.0.53\nsearch lan\n")}, "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"empty host file", Resolv{}, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"--dns", Resolv{HostFile: []byte(host), DNS: addrs("1.1.1.1", "9.9.9.9")}, "search corp.example\nnameserver 1.1.1.1\nnameserver 9.9.9.9\noptions edns0 timeout:2\n"},
		{"--dns-search", Resolv{HostFile: []byte(host), Search: []string{"a.example", "b.example"}}, "search a.example b.example\nnameserver 10.0.0.53\noptions edns0 timeout:2\n"},
		{"--dns-search .", Resolv{HostFile: []byte(host), Search: []string{"."}}, "nameserver 10.0.0.53\noptions edns0 timeout:2\n"},
		{"--dns-option", Resolv{HostFile: []byte(host), Options: []string{"ndots:3"}}, "search corp.example\nnameserver 10.0.0.53\noptions ndots:3\n"},
		{"--dns with host network", Resolv{HostFile: []byte(host), HostNetwork: true, DNS: addrs("1.1.1.1")}, "search corp.example\nnameserver 1.1.1.1\noptions edns0 timeout:2\n"},
		{"user network", Resolv{HostFile: []byte(host), Nameserver: netip.MustParseAddr("172.18.0.1"), DNS: addrs("1.1.1.1")}, "search corp.example\nnameserver 172.18.0.1\noptions edns0 timeout:2 ndots:0\n"},
		{"user network, user's ndots", Resolv{HostFile: []byte(host), Nameserver: netip.MustParseAddr("172.18.0.1"), Options: []string{"ndots:2"}, Search: []string{"x.example"}}, "search x.example\nnameserver 172.18.0.1\noptions ndots:2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, string(BuildResolvConf(tc.in)), tc.want)
		})
	}
}

func TestUpstreams(t *testing.T) {
	t.Parallel()
	host := []byte("nameserver 127.0.0.53\nnameserver fd00::53\nnameserver bogus\n")
	assert.DeepEqual(t, Upstreams(host, nil), []netip.AddrPort{netip.MustParseAddrPort("127.0.0.53:53"), netip.MustParseAddrPort("[fd00::53]:53")}, equateAddrPort)
	assert.DeepEqual(t, Upstreams(host, addrs("1.1.1.1")), []netip.AddrPort{netip.MustParseAddrPort("1.1.1.1:53")}, equateAddrPort)
}

func TestLinkEnv(t *testing.T) {
	t.Parallel()
	got := LinkEnv("/web/my-db", netip.MustParseAddr("172.17.0.2"), []string{"PATH=/bin", "HOME=/root", "HOSTNAME=x", "PG=15", "EMPTY="}, []string{"5433/tcp", "53/udp", "5432/tcp"})
	want := []string{
		"MY_DB_PORT=tcp://172.17.0.2:5432",
		"MY_DB_PORT_5432_TCP=tcp://172.17.0.2:5432",
		"MY_DB_PORT_5432_TCP_ADDR=172.17.0.2",
		"MY_DB_PORT_5432_TCP_PORT=5432",
		"MY_DB_PORT_5432_TCP_PROTO=tcp",
		"MY_DB_PORT_5433_TCP=tcp://172.17.0.2:5433",
		"MY_DB_PORT_5433_TCP_ADDR=172.17.0.2",
		"MY_DB_PORT_5433_TCP_PORT=5433",
		"MY_DB_PORT_5433_TCP_PROTO=tcp",
		// As Docker's loop: a range is written when the next port breaks it.
		"MY_DB_PORT_53_UDP=udp://172.17.0.2:53",
		"MY_DB_PORT_53_UDP_ADDR=172.17.0.2",
		"MY_DB_PORT_53_UDP_PORT=53",
		"MY_DB_PORT_53_UDP_PROTO=udp",
		"MY_DB_PORT_5432_TCP_START=tcp://172.17.0.2:5432",
		"MY_DB_PORT_5432_TCP_PORT_START=5432",
		"MY_DB_PORT_5432_TCP_END=tcp://172.17.0.2:5433",
		"MY_DB_PORT_5432_TCP_PORT_END=5433",
		"MY_DB_NAME=/web/my-db",
		"MY_DB_ENV_PG=15",
		"MY_DB_ENV_EMPTY=",
	}
	assert.DeepEqual(t, got, want)
}

func TestWriteInPlace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "hosts")
	assert.NilError(t, WriteInPlace(p, []byte("a long first content\n")))
	before, err := os.Stat(p)
	assert.NilError(t, err)
	assert.NilError(t, WriteInPlace(p, []byte("short\n")))
	after, err := os.Stat(p)
	assert.NilError(t, err)
	data, err := os.ReadFile(p)
	assert.NilError(t, err)
	assert.Equal(t, string(data), "short\n")
	assert.Check(t, os.SameFile(before, after), "the inode a bind mount pins must stay")
	assert.Check(t, is.Equal(after.Mode().Perm(), os.FileMode(0o644)))

	// A symbolic link is not followed, a FIFO not written to.
	target := filepath.Join(dir, "target")
	assert.NilError(t, os.WriteFile(target, []byte("keep\n"), 0o644))
	link := filepath.Join(dir, "link")
	assert.NilError(t, os.Symlink(target, link))
	assert.Check(t, is.ErrorContains(WriteInPlace(link, []byte("x")), "symbolic link"))
	data, _ = os.ReadFile(target)
	assert.Check(t, is.Equal(string(data), "keep\n"))
	fifo := filepath.Join(dir, "fifo")
	assert.NilError(t, syscall.Mkfifo(fifo, 0o644))
	assert.Check(t, is.ErrorContains(WriteInPlace(fifo, []byte("x")), ""))
}

var equateAddrPort = gocmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

func FuzzBuildResolvConf(f *testing.F) {
	f.Add([]byte("nameserver 10.0.0.53\nnameserver 127.0.0.53\nsearch a b\noptions ndots:2\n"), false)
	f.Add([]byte("# c\n;x\ndomain d\nnameserver fe80::1%eth0\n"), true)
	f.Fuzz(func(t *testing.T, host []byte, hostNet bool) {
		for _, r := range []Resolv{{HostFile: host, HostNetwork: hostNet}, {HostFile: host, Search: []string{"x"}}, {HostFile: host, Nameserver: netip.MustParseAddr("172.18.0.1")}} {
			out := BuildResolvConf(r)
			if len(out) > 0 && out[len(out)-1] != '\n' && !hostNet {
				t.Fatalf("unterminated resolv.conf %q from %q", out, host)
			}
		}
		_ = Upstreams(host, nil)
	})
}
