package integration

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestNetworkNamesFiles checks what --add-host, --hostname, --domainname
// and --dns* write into /etc/hosts and /etc/resolv.conf, and that a
// read-only container sees them read-only.
func TestNetworkNamesFiles(t *testing.T) {
	d := harness.NewWithImage(t)

	hosts := d.OK(t, "run", "--rm", "--add-host", "db.local:10.0.0.5", "--add-host", "v6=[fd00::1]",
		"--hostname", "web", "--domainname", "example.com", "busybox", "cat", "/etc/hosts")
	assert.Check(t, is.Contains(hosts, "127.0.0.1\tlocalhost\n"))
	assert.Check(t, is.Contains(hosts, "10.0.0.5\tdb.local\nfd00::1\tv6\n"), "--add-host in order")
	assert.Check(t, strings.HasSuffix(hosts, "\tweb.example.com web"), "own name last: %q", hosts)

	resolv := d.OK(t, "run", "--rm", "--dns", "10.0.0.53", "--dns", "10.0.0.54", "--dns-search", "a.example",
		"--dns-option", "ndots:2", "--dns-option", "edns0", "busybox", "cat", "/etc/resolv.conf")
	assert.Equal(t, resolv, "search a.example\nnameserver 10.0.0.53\nnameserver 10.0.0.54\noptions ndots:2 edns0")
	resolv = d.OK(t, "run", "--rm", "--dns-search", ".", "busybox", "cat", "/etc/resolv.conf")
	assert.Check(t, !strings.Contains(resolv, "search"), resolv)
	assert.Check(t, !strings.Contains(resolv, "nameserver 127."), "a host loopback resolver is unreachable from the container: %q", resolv)

	out := d.OK(t, "run", "--rm", "--read-only", "--add-host", "x:1.2.3.4", "busybox", "sh", "-c",
		`grep -c 1.2.3.4 /etc/hosts; for f in hosts resolv.conf hostname; do (echo >> /etc/$f) 2>/dev/null && echo $f writable || echo $f read-only; done`)
	assert.Equal(t, out, "1\nhosts read-only\nresolv.conf read-only\nhostname read-only")

	// Bad values: 400 at create, nothing left behind.
	before := d.Snapshot(t)
	for _, tc := range []struct {
		hc   map[string]any
		want string
	}{
		{map[string]any{"ExtraHosts": []string{"nocolon"}}, `bad format for add-host: "nocolon"`},
		{map[string]any{"ExtraHosts": []string{"a:1.2.3"}}, `invalid IP address in add-host: "1.2.3"`},
		{map[string]any{"Links": []string{"a:b:c"}}, "bad format for links: a:b:c"},
	} {
		res := d.API(t, "POST", "/containers/create", map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "HostConfig": tc.hc})
		assert.Check(t, is.Equal(res.Status, 400), string(res.Body))
		assert.Check(t, is.Contains(res.Message(), tc.want))
	}
	d.AssertUnchanged(t, before, "refused creates")
}

// TestNetworkNamesLinks checks --link as Docker has it on the default
// bridge: the linked container must exist at create and run at start,
// on the default bridge; HostConfig.Links shows /NAME:/PARENT/ALIAS; the
// linker's /etc/hosts is rewritten in place (its inode stays, a
// read-only container keeps seeing it) when a linked container starts.
func TestNetworkNamesLinks(t *testing.T) {
	d := harness.NewWithImage(t)

	d.Fails(t, 125, []string{"could not get container for nope"}, "create", "--link", "nope:x", "busybox", "true")
	res := d.API(t, "POST", "/containers/create", map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "HostConfig": map[string]any{"Links": []string{"nope"}}})
	assert.Check(t, is.Equal(res.Status, 400), "a missing link is invalid, not missing (moby#39823): %s", res.Body)

	d.OK(t, "run", "-d", "--name", "db", "busybox", "sleep", "300")
	d.Fails(t, 125, []string{"conflicting options: host type networking can't be used with links"}, "create", "--network", "host", "--link", "db", "busybox", "true")
	d.Fails(t, 125, []string{"a container on network none cannot have links"}, "create", "--network", "none", "--link", "db", "busybox", "true")
	d.Fails(t, 125, []string{"network-scoped alias is supported only for containers in user defined networks"}, "create", "--network-alias", "x", "busybox", "true")

	d.OK(t, "run", "-d", "--read-only", "--name", "web", "--link", "db:mydb", "busybox", "sleep", "300")
	assert.Equal(t, d.Inspect(t, "web", "{{json .HostConfig.Links}}"), `["/db:/web/mydb"]`)

	// On a user network a link is a name for the DNS server, which need
	// not exist yet; it shows on the endpoint, as in Docker.
	res = d.API(t, "POST", "/networks/create", map[string]any{"Name": "appnet"})
	assert.Equal(t, res.Status, 201, string(res.Body))
	d.OK(t, "create", "--name", "u1", "--network", "appnet", "--network-alias", "api", "--link", "later:al", "busybox", "true")
	assert.Equal(t, d.Inspect(t, "u1", "{{json .HostConfig.Links}}"), "null")
	assert.Equal(t, d.Inspect(t, "u1", "{{json .NetworkSettings.Networks.appnet.Links}} {{json .NetworkSettings.Networks.appnet.Aliases}}"), `["later:al"] ["api"]`)

	// Links need running containers on the default bridge.
	d.OK(t, "create", "--name", "idle", "busybox", "true")
	d.Fails(t, 125, []string{"Cannot link to a non running container: /idle AS /linker/idle"}, "run", "--name", "linker", "--link", "idle", "busybox", "true")
	d.OK(t, "run", "-d", "--name", "lonely", "--network", "none", "busybox", "sleep", "300")
	d.Fails(t, 125, []string{"Cannot link to /lonely, as it does not belong to the default network"}, "run", "--name", "linker2", "--link", "lonely", "busybox", "true")

	// A start of the linked container rewrites the linker's hosts file in
	// place: same inode (the read-only bind mount pins it), new mtime.
	hostsPath := d.Inspect(t, "web", "{{.HostsPath}}")
	st0 := statFile(t, hostsPath)
	inode := d.OK(t, "exec", "web", "stat", "-c", "%i", "/etc/hosts")
	d.OK(t, "restart", "-t", "0", "db")
	st1 := statFile(t, hostsPath)
	assert.Check(t, is.Equal(st1.Ino, st0.Ino))
	assert.Check(t, st1.Mtim != st0.Mtim, "the linker's hosts file was not rewritten")
	assert.Check(t, is.Equal(d.OK(t, "exec", "web", "stat", "-c", "%i", "/etc/hosts"), inode))
	assert.Check(t, is.Contains(d.OK(t, "exec", "web", "cat", "/etc/hosts"), "localhost"))
	out := d.Berth(t, "exec", "web", "sh", "-c", "echo x >> /etc/hosts")
	assert.Check(t, out.ExitCode != 0, "a read-only container's hosts file stays read-only")
}

// TestNetworkNamesDockerCLI drives the name flags with both docker CLIs.
func TestNetworkNamesDockerCLI(t *testing.T) {
	tg := harness.NewTarget(t)
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		out := c.OK(t, "run", "--rm", "--add-host", "db.local:10.0.0.5", "--dns", "10.0.0.53", "--dns-search", "a.example",
			"--dns-opt", "ndots:3", "busybox", "sh", "-c", "grep db.local /etc/hosts; cat /etc/resolv.conf")
		assert.Equal(t, out, "10.0.0.5\tdb.local\nsearch a.example\nnameserver 10.0.0.53\noptions ndots:3\n")
		c.Fails(t, 125, "could not get container for "+c.Name("nope"), "run", "--rm", "--link", c.Name("nope")+":x", "busybox", "true")
	})
}

func statFile(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	fi, err := os.Stat(path)
	assert.NilError(t, err)
	return fi.Sys().(*syscall.Stat_t)
}
