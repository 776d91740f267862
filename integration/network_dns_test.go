package integration

import (
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestNetworkNamesResolve runs the names end to end on real networks: on
// a user network containers find each other by name, by --network-alias
// and through the network's DNS server, which refuses nothing it knows
// and answers NXDOMAIN for what it does not (an internal network forwards
// nothing); on the default bridge --link writes the link's address into
// the hosts file; every container's hosts file names its own address.
func TestNetworkNamesResolve(t *testing.T) {
	d := harness.NewWithImage(t)
	d.OK(t, "network", "create", "--subnet", d.Subnet(0), "apps")
	d.OK(t, "network", "create", "--internal", "--subnet", d.Subnet(1), "sealed")
	d.OK(t, "run", "-d", "--name", "db", "--network", "apps", "--ip", d.SubnetAddr(0, 20), "--network-alias", "database",
		"busybox", "sleep", "1000")

	// The network's DNS server runs on its gateway, and resolv.conf names it.
	resolv := d.OK(t, "run", "--rm", "--network", "apps", "busybox", "cat", "/etc/resolv.conf")
	assert.Check(t, is.Contains(resolv, "nameserver "+d.SubnetAddr(0, 1)), resolv)

	for _, name := range []string{"db", "database", "DB"} {
		out := d.OK(t, "run", "--rm", "--network", "apps", "busybox", "nslookup", name)
		assert.Check(t, is.Contains(out, d.SubnetAddr(0, 20)), "nslookup %s: %s", name, out)
	}
	res := d.Berth(t, "run", "--rm", "--network", "apps", "busybox", "nslookup", "nosuchname")
	assert.Check(t, res.ExitCode != 0, "an unknown name resolved: %s", res.Combined())
	assert.Check(t, !strings.Contains(res.Stdout, d.SubnetAddr(0, 20)), res.Combined())

	// A renamed container answers to its new name.
	d.OK(t, "rename", "db", "db2")
	out := d.OK(t, "run", "--rm", "--network", "apps", "busybox", "nslookup", "db2")
	assert.Check(t, is.Contains(out, d.SubnetAddr(0, 20)), "nslookup db2: %s", out)
	d.OK(t, "rename", "db2", "db")

	// A container of another network does not learn the names of apps.
	d.OK(t, "run", "-d", "--name", "vaultdb", "--network", "sealed", "busybox", "sleep", "1000")
	res = d.Berth(t, "run", "--rm", "--network", "sealed", "busybox", "nslookup", "db")
	assert.Check(t, !strings.Contains(res.Stdout, d.SubnetAddr(0, 20)), "sealed resolved db of apps: %s", res.Combined())
	out = d.OK(t, "run", "--rm", "--network", "sealed", "busybox", "nslookup", "vaultdb")
	assert.Check(t, is.Contains(out, "Address"), out)

	// The hosts file carries the container's own address.
	hosts := d.OK(t, "run", "--rm", "--network", "apps", "--ip", d.SubnetAddr(0, 21), "--hostname", "me", "busybox", "cat", "/etc/hosts")
	assert.Check(t, is.Contains(hosts, d.SubnetAddr(0, 21)+"\tme"), hosts)

	// --link on the default bridge: the hosts entry with the link's address.
	d.OK(t, "run", "-d", "--name", "cache", "busybox", "sleep", "1000")
	cacheIP := d.Inspect(t, "cache", "{{.NetworkSettings.Networks.bridge.IPAddress}}")
	assert.Assert(t, cacheIP != "", "cache has no address on the default bridge")
	hosts = d.OK(t, "run", "--rm", "--link", "cache:kv", "busybox", "cat", "/etc/hosts")
	// As Docker: ADDRESS<TAB>ALIAS HOSTNAME NAME.
	assert.Check(t, is.Regexp(`(?m)^`+regexp.QuoteMeta(cacheIP)+`\tkv [0-9a-f]{12} cache$`, hosts), hosts)
	ping := d.OK(t, "run", "--rm", "--link", "cache:kv", "busybox", "ping", "-c", "1", "-W", "2", "kv")
	assert.Check(t, is.Contains(ping, "1 packets received"), ping)

	d.OK(t, "rm", "-f", "db", "vaultdb", "cache")
	d.OK(t, "network", "rm", "apps", "sealed")
}
