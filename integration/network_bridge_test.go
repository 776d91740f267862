package integration

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestNetworkBridgeTraffic runs real traffic between containers with the
// docker CLI: two containers of a user network reach each other by IP
// (busybox httpd and wget), a container of another network cannot, an
// internal network has no default route, the subnet is masqueraded, and
// connect/disconnect on a running container add and remove an interface.
func TestNetworkBridgeTraffic(t *testing.T) {
	d := harness.NewWithImage(t)
	docker := func(args ...string) string { t.Helper(); return d.DockerOK(t, args...) }
	docker("network", "create", "--subnet", d.Subnet(0), "--gateway", d.SubnetAddr(0, 1), "--ip-range", d.Subnet(0), "front")
	docker("network", "create", "--subnet", d.Subnet(1), "back")
	docker("network", "create", "--internal", "--subnet", d.Subnet(2), "vault")

	webIP := d.SubnetAddr(0, 10)
	docker("run", "-d", "--name", "web", "--network", "front", "--ip", webIP, "--network-alias", "www",
		"busybox", "httpd", "-f", "-p", "80", "-h", "/tmp")
	// The server runs once its address answers.
	harness.Poll(t, func() (bool, string) {
		res := d.Docker(t, harness.DockerCLI, append([]string{"run", "--rm", "--network", "front", "busybox"}, fetch(webIP)...)...)
		return strings.Contains(res.Stdout, "image-tmp"), res.Combined()
	})
	got := docker("inspect", "--format", "{{.NetworkSettings.Networks.front.IPAddress}} {{.NetworkSettings.Networks.front.Gateway}} {{.NetworkSettings.Networks.front.Aliases}}", "web")
	assert.Equal(t, got, webIP+" "+d.SubnetAddr(0, 1)+" [www]")

	var insp []network.Inspect
	assert.NilError(t, json.Unmarshal([]byte(docker("network", "inspect", "front")), &insp))
	assert.Equal(t, insp[0].IPAM.Config[0].Subnet.String(), d.Subnet(0))
	assert.Equal(t, insp[0].IPAM.Config[0].Gateway.String(), d.SubnetAddr(0, 1))
	assert.Check(t, is.Len(insp[0].Containers, 1))
	for _, c := range insp[0].Containers {
		assert.Equal(t, c.IPv4Address.String(), webIP+"/27")
	}

	// Another network is isolated from front.
	res := d.Docker(t, harness.DockerCLI, append([]string{"run", "--rm", "--network", "back", "busybox"}, fetch(webIP)...)...)
	assert.Check(t, !strings.Contains(res.Stdout, "image-tmp"), "a container of network back reached web on front: %s", res.Combined())

	// An internal network has no default route; a normal one has one.
	routes := docker("run", "--rm", "--network", "vault", "busybox", "ip", "route")
	assert.Check(t, !strings.Contains(routes, "default"), routes)
	routes = docker("run", "--rm", "--network", "back", "busybox", "ip", "route")
	assert.Check(t, is.Contains(routes, "default via "), routes)

	// Outbound NAT: what leaves a network's subnet by another interface
	// than its bridge is masqueraded, not on an internal network.
	docker("run", "-d", "--name", "vaulted", "--network", "vault", "--ip", d.SubnetAddr(2, 5), "busybox", "sleep", "300")
	nat, err := harness.Output("iptables", "-w", "-t", "nat", "-S", "POSTROUTING")
	assert.NilError(t, err)
	frontID := docker("network", "inspect", "--format", "{{.ID}}", "front")
	assert.Check(t, is.Contains(nat, "-A POSTROUTING -s "+d.Subnet(0)+" ! -o berth-"+frontID[:9]+" -j MASQUERADE"), nat)
	assert.Check(t, is.Contains(nat, "-A POSTROUTING -s "+d.Subnet(1)+" ! -o "), nat)
	assert.Check(t, !strings.Contains(nat, d.Subnet(2)), nat)

	// connect and disconnect a running container: eth1 comes and goes.
	docker("run", "-d", "--name", "multi", "--network", "back", "busybox", "sleep", "300")
	docker("network", "connect", "front", "multi")
	links := docker("exec", "multi", "ip", "-o", "addr")
	assert.Check(t, is.Contains(links, "eth1"), links)
	assert.Check(t, is.Contains(docker(append([]string{"exec", "multi"}, fetch(webIP)...)...), "image-tmp"))
	docker("network", "disconnect", "front", "multi")
	links = docker("exec", "multi", "ip", "-o", "addr")
	assert.Check(t, !strings.Contains(links, "eth1"), links)

	// --network container: shares web's namespace (and its address).
	out := docker(append([]string{"run", "--rm", "--network", "container:web", "busybox"}, fetch("127.0.0.1")...)...)
	assert.Check(t, is.Contains(out, "image-tmp"))
	// ... and its name files and host name, as Docker.
	webHosts := docker("exec", "web", "cat", "/etc/hosts", "/etc/resolv.conf")
	webName := docker("exec", "web", "hostname")
	assert.Equal(t, docker("run", "--rm", "--network", "container:web", "busybox", "cat", "/etc/hosts", "/etc/resolv.conf"), webHosts)
	assert.Equal(t, docker("run", "--rm", "--network", "container:web", "busybox", "hostname"), webName)
}

// TestNetworkPublish publishes ports: -p 127.0.0.1:PORT:80 reaches busybox
// httpd from a Go client on the host, docker port and ps show it, a port
// already taken (by a container or a host process) is refused with
// Docker's message and the container does not run, and -P publishes the
// exposed ports on free host ports.
func TestNetworkPublish(t *testing.T) {
	d := harness.NewWithImage(t)
	docker := func(args ...string) string { t.Helper(); return d.DockerOK(t, args...) }
	port := harness.FreePort(t)
	docker("run", "-d", "--name", "web", "-p", "127.0.0.1:"+port+":80", "busybox", "httpd", "-f", "-p", "80", "-h", "/tmp")
	body := httpGet(t, "http://127.0.0.1:"+port+"/seed.txt")
	assert.Check(t, body != "")
	assert.Equal(t, docker("port", "web"), "80/tcp -> 127.0.0.1:"+port)
	assert.Equal(t, docker("port", "web", "80"), "127.0.0.1:"+port)
	assert.Check(t, is.Contains(docker("ps", "--format", "{{.Ports}}"), "127.0.0.1:"+port+"->80/tcp"))

	// Taken by a container.
	res := d.Docker(t, harness.DockerCLI, "run", "-d", "--name", "web2", "-p", "127.0.0.1:"+port+":80", "busybox", "httpd", "-f", "-p", "80")
	assert.Check(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "Bind for 127.0.0.1:"+port+" failed: port is already allocated"))
	assert.Equal(t, docker("inspect", "--format", "{{.State.Running}}", "web2"), "false")

	// Taken by a host process.
	l, err := netListen("127.0.0.1:0")
	assert.NilError(t, err)
	defer l.Close()
	hostPort := portOf(l.Addr().String())
	res = d.Docker(t, harness.DockerCLI, "run", "-d", "--name", "web3", "-p", "127.0.0.1:"+hostPort+":80", "busybox", "httpd", "-f", "-p", "80")
	assert.Check(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "Bind for 127.0.0.1:"+hostPort+" failed: port is already allocated"))

	// A restart holds the port again.
	docker("restart", "-t", "1", "web")
	assert.Check(t, is.Contains(httpGet(t, "http://127.0.0.1:"+port+"/seed.txt"), "image-tmp"))

	// Once web is gone, its port is free again.
	docker("rm", "-f", "web")
	docker("start", "web2")
	docker("rm", "-f", "web2")

	// -P: the image exposes nothing, --expose does.
	docker("run", "-d", "--name", "all", "-P", "--expose", "80", "--expose", "81/udp", "busybox", "httpd", "-f", "-p", "80", "-h", "/tmp")
	var ports map[string][]struct{ HostIp, HostPort string }
	assert.NilError(t, json.Unmarshal([]byte(docker("inspect", "--format", "{{json .NetworkSettings.Ports}}", "all")), &ports))
	assert.Check(t, is.Len(ports["80/tcp"], 1))
	assert.Check(t, is.Len(ports["81/udp"], 1))
	assert.Check(t, ports["80/tcp"][0].HostPort != "0")
	body = httpGet(t, "http://127.0.0.1:"+ports["80/tcp"][0].HostPort+"/seed.txt")
	assert.Check(t, body != "")
}

// httpGet fetches url from the host, polling until the server answers.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	var body string
	harness.Poll(t, func() (bool, string) {
		resp, err := http.Get(url)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		body = string(data)
		return resp.StatusCode == 200, resp.Status
	})
	return body
}

func netListen(addr string) (net.Listener, error) { return net.Listen("tcp4", addr) }

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// fetch is a command that gets /seed.txt from busybox httpd at ip:80
// (busybox's static wget crashes here; nc does the job).
func fetch(ip string) []string {
	return []string{"sh", "-c", `printf 'GET /seed.txt HTTP/1.0\r\n\r\n' | nc -w 2 ` + ip + ` 80`}
}

// TestNetworkTwoDaemons runs two daemons side by side, each on its own
// bridge and subnets: both publish, and removing one's network and
// containers leaves the other's working.
func TestNetworkTwoDaemons(t *testing.T) {
	d1 := harness.NewWithImage(t)
	d2 := harness.NewWithImage(t)
	p1, p2 := harness.FreePort(t), harness.FreePort(t)
	d1.OK(t, "network", "create", "shared")
	d2.OK(t, "network", "create", "shared")
	d1.OK(t, "run", "-d", "--name", "web", "--network", "shared", "-p", "127.0.0.1:"+p1+":80", "busybox", "httpd", "-f", "-p", "80", "-h", "/tmp")
	d2.OK(t, "run", "-d", "--name", "web", "--network", "shared", "-p", "127.0.0.1:"+p2+":80", "busybox", "httpd", "-f", "-p", "80", "-h", "/tmp")
	httpGet(t, "http://127.0.0.1:"+p1+"/seed.txt")
	httpGet(t, "http://127.0.0.1:"+p2+"/seed.txt")
	s1 := d1.OK(t, "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "shared")
	s2 := d2.OK(t, "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "shared")
	assert.Check(t, s1 != s2, "both daemons chose %s", s1)
	d1.OK(t, "rm", "-f", "web")
	d1.OK(t, "network", "rm", "shared")
	assert.Check(t, is.Contains(httpGet(t, "http://127.0.0.1:"+p2+"/seed.txt"), "image-tmp"))
}
