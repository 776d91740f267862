package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/harness"
)

// netFootprint counts what a daemon's networking holds on the host:
// interfaces enslaved to its bridges, its bridges, iptables rules that
// name its bridges or subnets, address leases and namespace files.
type netFootprint struct {
	Links, Bridges, Rules, Leases, CNICache, NetNS int
}

func footprint(t *testing.T, d *harness.Daemon, bridges, subnets []string) netFootprint {
	t.Helper()
	var f netFootprint
	for _, b := range bridges {
		if out, err := harness.Output("ip", "-o", "link", "show", "master", b); err == nil {
			f.Links += len(strings.Split(strings.TrimSpace(out), "\n"))
			if strings.TrimSpace(out) == "" {
				f.Links--
			}
		}
		if _, err := harness.Output("ip", "link", "show", b); err == nil {
			f.Bridges++
		}
	}
	for _, table := range []string{"filter", "nat"} {
		out, err := harness.Output("iptables", "-w", "-t", table, "-S")
		assert.NilError(t, err)
		for _, line := range strings.Split(out, "\n") {
			for _, s := range append(append([]string{}, bridges...), subnets...) {
				if strings.Contains(line, " "+s+" ") || strings.HasSuffix(line, " "+s) || strings.Contains(line, s+"/") {
					f.Rules++
					break
				}
			}
		}
	}
	// DNAT rules name the container's address, in the subnets above; the
	// per-container chains name the container ID in comments.
	_ = filepath.WalkDir(filepath.Join(d.DataRoot, "network", "ipam"), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && e.Name() != "lock" && !strings.HasPrefix(e.Name(), "last_reserved_ip") {
			f.Leases++
		}
		return nil
	})
	_ = filepath.WalkDir(filepath.Join(d.DataRoot, "network", "cache"), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			f.CNICache++
		}
		return nil
	})
	ns, _ := os.ReadDir(filepath.Join(d.ExecRoot, "netns"))
	f.NetNS = len(ns)
	return f
}

// TestNetworkCrashCleanup kills the daemon with published ports in use:
// the port keeps working while no daemon runs and after the restart; a
// container that died while the daemon was down is unplumbed by restore;
// removing everything brings interfaces, bridges, rules, leases and
// namespaces back to where they were.
func TestNetworkCrashCleanup(t *testing.T) {
	d := harness.NewWithImage(t)
	docker := func(args ...string) string { t.Helper(); return d.DockerOK(t, args...) }
	subnet := d.Subnet(3)
	netID := docker("network", "create", "--subnet", subnet, "crashnet")
	bridges := []string{d.Bridge(), "berth-" + netID[:9]}
	subnets := []string{d.BridgeSubnet(), subnet, strings.TrimSuffix(d.BridgeSubnet(), "0/24"), strings.TrimSuffix(subnet, "96/27")}
	// The bridges and their isolation rules come with the first
	// container of each network and stay.
	docker("run", "--rm", "busybox", "true")
	docker("run", "--rm", "--network", "crashnet", "busybox", "true")
	base := footprint(t, d, bridges, subnets)
	assert.Equal(t, base.Bridges, 2)
	assert.Equal(t, base.Links+base.Leases+base.CNICache+base.NetNS, 0)

	port := harness.FreePort(t)
	docker("run", "-d", "--name", "web", "--network", "crashnet", "-p", "127.0.0.1:"+port+":80", "busybox", "httpd", "-f", "-p", "80", "-h", "/tmp")
	port2 := harness.FreePort(t)
	docker("run", "-d", "--name", "victim", "-p", "127.0.0.1:"+port2+":80", "busybox", "httpd", "-f", "-p", "80", "-h", "/tmp")
	httpGet(t, "http://127.0.0.1:"+port+"/seed.txt")
	httpGet(t, "http://127.0.0.1:"+port2+"/seed.txt")
	pid, err := strconv.Atoi(docker("inspect", "--format", "{{.State.Pid}}", "victim"))
	assert.NilError(t, err)
	running := footprint(t, d, bridges, subnets)
	assert.Equal(t, running.Links, base.Links+2)
	assert.Equal(t, running.Leases, base.Leases+2)
	assert.Check(t, running.Rules > base.Rules, "no NAT rules for the published ports: %+v", running)

	d.Kill(t)
	// No daemon: the published port still reaches the container.
	httpGet(t, "http://127.0.0.1:"+port+"/seed.txt")
	// A container that dies while no daemon runs.
	assert.NilError(t, syscall.Kill(pid, syscall.SIGKILL))
	d.Start(t)
	d.WaitState(t, "victim", "exited")
	httpGet(t, "http://127.0.0.1:"+port+"/seed.txt")
	after := footprint(t, d, bridges, subnets)
	assert.Equal(t, after.Links, base.Links+1, "restore did not unplug the dead container: %+v", after)
	assert.Equal(t, after.Leases, base.Leases+1)
	assert.Equal(t, after.NetNS, base.NetNS+1)
	// Its port is free again.
	l, err := netListen("127.0.0.1:" + port2)
	assert.NilError(t, err)
	l.Close()

	docker("rm", "-f", "web", "victim")
	assert.DeepEqual(t, footprint(t, d, bridges, subnets), base)
	docker("network", "rm", "crashnet")
	end := footprint(t, d, bridges, subnets)
	assert.Equal(t, end.Bridges, 1)
	assert.Equal(t, end.Rules, base.Rules-3, "the network's isolation and masquerade rules are left")
	assert.Equal(t, end.Links+end.Leases+end.CNICache+end.NetNS, 0)
}
