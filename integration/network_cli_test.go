package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestNetworkBerthCLI drives networking with the berth CLI: network
// create/ls/inspect/connect/disconnect/rm/prune, run -p/-P/--expose/--ip/
// --network-alias, berth port and the PORTS column of ps.
func TestNetworkBerthCLI(t *testing.T) {
	d := harness.NewWithImage(t)
	id := d.OK(t, "network", "create", "--subnet", d.Subnet(4), "--gateway", d.SubnetAddr(4, 30), "--label", "k=v", "clinet")
	assert.Equal(t, len(id), 64)
	assert.Equal(t, d.OK(t, "network", "ls", "--filter", "label=k=v", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"), "clinet bridge local")
	assert.Equal(t, d.OK(t, "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", "clinet"), d.Subnet(4)+" "+d.SubnetAddr(4, 30))
	d.Fails(t, 1, []string{"network with name clinet already exists"}, "network", "create", "clinet")
	d.Fails(t, 125, []string{"it does not belong to network clinet"}, "run", "--network", "clinet", "--ip", "10.99.0.1", "busybox", "true")
	d.Fails(t, 125, []string{"user specified IP address is supported on user defined networks only"}, "run", "--ip", d.SubnetAddr(4, 3), "busybox", "true")
	d.Fails(t, 125, []string{"invalid proto: icmp"}, "run", "-p", "80/icmp", "busybox", "true")
	d.Fails(t, 125, []string{"conflicting options: port publishing and the container type network mode"}, "run", "--network", "host", "-p", "80", "busybox", "true")

	port := harness.FreePort(t)
	ip := d.SubnetAddr(4, 7)
	d.OK(t, "run", "-d", "--name", "web", "--network", "clinet", "--ip", ip, "--network-alias", "www",
		"-p", "127.0.0.1:"+port+":80", "--expose", "81", "-P", "busybox", "httpd", "-f", "-p", "80", "-h", "/tmp")
	assert.Check(t, is.Contains(httpGet(t, "http://127.0.0.1:"+port+"/seed.txt"), "image-tmp"))
	assert.Equal(t, d.OK(t, "port", "web", "80"), "127.0.0.1:"+port)
	ports := d.OK(t, "port", "web")
	assert.Check(t, is.Contains(ports, "80/tcp -> 127.0.0.1:"+port))
	assert.Check(t, is.Contains(ports, "81/tcp -> 0.0.0.0:"))
	assert.Check(t, is.Contains(d.OK(t, "ps", "--format", "{{.Ports}}"), "127.0.0.1:"+port+"->80/tcp"))
	assert.Equal(t, d.OK(t, "inspect", "--format", "{{.NetworkSettings.Networks.clinet.IPAddress}} {{.NetworkSettings.Networks.clinet.Aliases}}", "web"), ip+" [www]")
	d.Fails(t, 1, []string{"no public port '82/tcp' published for web"}, "port", "web", "82")

	d.OK(t, "network", "create", "--internal", "side")
	d.OK(t, "network", "connect", "--alias", "w2", "side", "web")
	assert.Check(t, is.Contains(d.OK(t, "exec", "web", "ip", "-o", "addr"), "eth1"))
	d.OK(t, "network", "disconnect", "side", "web")
	assert.Check(t, !strings.Contains(d.OK(t, "exec", "web", "ip", "-o", "addr"), "eth1"))
	d.Fails(t, 1, []string{"has active endpoints"}, "network", "rm", "clinet")
	d.OK(t, "network", "create", "unused")
	out := d.OK(t, "network", "prune", "-f")
	assert.Check(t, is.Contains(out, "side"))
	assert.Check(t, is.Contains(out, "unused"))
	assert.Check(t, !strings.Contains(out, "clinet"))
	d.OK(t, "rm", "-f", "web")
	assert.Equal(t, d.OK(t, "network", "rm", "clinet"), "clinet")
	assert.Equal(t, d.OK(t, "network", "ls", "--format", "{{.Name}}"), "bridge\nhost\nnone")
}

const composeNetFile = `version: "2.4"
services:
  web:
    image: busybox:latest
    read_only: true
    command: ["httpd", "-f", "-p", "80", "-h", "/tmp"]
    ports:
      - "127.0.0.1:${WEB_PORT}:80"
  client:
    image: busybox:latest
    read_only: true
    command: ["sleep", "300"]
`

// TestNetworkCompose runs a compose 1.29 project on its default network:
// the client reaches web by its address, and the host reaches web's
// published port; down removes the network.
func TestNetworkCompose(t *testing.T) {
	d := harness.NewWithImage(t)
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(composeNetFile), 0o644))
	port := harness.FreePort(t)
	t.Setenv("WEB_PORT", port)
	res := compose(t, d, dir, "up", "-d")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(httpGet(t, "http://127.0.0.1:"+port+"/seed.txt"), "image-tmp"))
	webIP := d.OK(t, "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "bt_web_1")
	assert.Check(t, webIP != "")
	harness.Poll(t, func() (bool, string) {
		res := d.Berth(t, append([]string{"exec", "bt_client_1"}, fetch(webIP)...)...)
		return strings.Contains(res.Stdout, "image-tmp"), res.Combined()
	})
	// And by its service name, through the network's DNS server.
	res = d.Berth(t, append([]string{"exec", "bt_client_1"}, fetch("web")...)...)
	assert.Check(t, is.Contains(res.Stdout, "image-tmp"), "the client reached no web by name: %s", res.Combined())
	res = compose(t, d, dir, "down")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, d.OK(t, "network", "ls", "--format", "{{.Name}}"), "bridge\nhost\nnone")
}

const sdkNetScript = `
import sys
import docker

c = docker.DockerClient(base_url=sys.argv[1])
with open(sys.argv[2], "rb") as f:
    c.images.load(f.read())
ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=sys.argv[3], gateway=sys.argv[4])])
net = c.networks.create("sdknet", driver="bridge", ipam=ipam)
net.reload()
print("ipam", net.attrs["IPAM"]["Config"][0]["Subnet"], net.attrs["IPAM"]["Config"][0]["Gateway"])
nc = c.api.create_networking_config({"sdknet": c.api.create_endpoint_config(aliases=["db"], ipv4_address=sys.argv[5])})
cid = c.api.create_container("busybox", ["sleep", "300"], networking_config=nc,
                             host_config=c.api.create_host_config(network_mode="sdknet", port_bindings={80: ("127.0.0.1", None)}),
                             ports=[80])["Id"]
ct = c.containers.get(cid)
ct.start()
ct.reload()
ep = ct.attrs["NetworkSettings"]["Networks"]["sdknet"]
print("endpoint", ep["IPAddress"], ep["Aliases"], ep["Gateway"])
print("port", ct.attrs["NetworkSettings"]["Ports"]["80/tcp"][0]["HostIp"], ct.attrs["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"] != "0")
net.reload()
print("members", [x.name for x in net.containers])
ct.remove(force=True)
net.remove()
print("pruned", c.networks.prune())
`

// TestNetworkSDKPython drives networks with Debian's Python SDK: IPAM
// pools, networking_config with aliases and an address, port_bindings.
func TestNetworkSDKPython(t *testing.T) {
	harness.RequireTool(t, sdkPython)
	d := harness.New(t)
	out, err := exec.Command(sdkPython, "-c", sdkNetScript, d.Host(), harness.TestImage(t), d.Subnet(5), d.SubnetAddr(5, 1), d.SubnetAddr(5, 9)).CombinedOutput()
	assert.NilError(t, err, string(out))
	got := string(out)
	assert.Check(t, is.Contains(got, "ipam "+d.Subnet(5)+" "+d.SubnetAddr(5, 1)+"\n"))
	assert.Check(t, is.Contains(got, "endpoint "+d.SubnetAddr(5, 9)+" ['db'] "+d.SubnetAddr(5, 1)+"\n"))
	assert.Check(t, is.Contains(got, "port 127.0.0.1 True\n"))
	assert.Check(t, is.Contains(got, "members ['"))
	assert.Check(t, is.Contains(got, "pruned {'NetworksDeleted': []}"))
}
