package harness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Every test daemon gets a network slot of its own, so that daemons that
// run side by side (in this process or another) never share a bridge or
// a subnet: slot N has the default bridge "btN" on 10.213.N.1/24, the
// pool 10.214.N.0/24 (in /27s) for networks created without a subnet, and
// 10.215.N.0/24 for the subnets a test chooses (Subnet).
type netSlot struct {
	n    int
	lock *os.File
}

const netSlotDir = "/run/berth-itest-net"

// takeNetSlot holds the first free slot by a lock file until release.
func takeNetSlot(t testing.TB) *netSlot {
	t.Helper()
	if err := os.MkdirAll(netSlotDir, 0o700); err != nil {
		t.Fatalf("network slots: %v", err)
	}
	for n := 1; n < 250; n++ {
		f, err := os.OpenFile(filepath.Join(netSlotDir, fmt.Sprintf("slot-%d.lock", n)), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatalf("network slots: %v", err)
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			return &netSlot{n: n, lock: f}
		}
		f.Close()
	}
	t.Fatal("network slots: all 249 are taken")
	return nil
}

func (s *netSlot) args() []string {
	return []string{"--bridge", s.bridge(), "--bip", fmt.Sprintf("10.213.%d.1/24", s.n),
		"--default-address-pool", fmt.Sprintf("base=10.214.%d.0/24,size=27", s.n)}
}

func (s *netSlot) bridge() string { return fmt.Sprintf("bt%d", s.n) }

// release deletes what a daemon that could not clean up (killed) left of
// its default bridge, then frees the slot.
func (s *netSlot) release() {
	_ = exec.Command("ip", "link", "delete", s.bridge(), "type", "bridge").Run()
	for _, table := range []string{"filter", "nat"} {
		out, _ := exec.Command("iptables", "-w", "-t", table, "-S").Output()
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) > 2 && f[0] == "-A" && strings.Contains(" "+line+" ", " "+s.bridge()+" ") {
				_ = exec.Command("iptables", append([]string{"-w", "-t", table, "-D"}, f[1:]...)...).Run()
			}
		}
	}
	s.lock.Close()
}

// Subnet is a /27 of the daemon's slot for a test's network (k from 0 to
// 7), e.g. "10.215.3.32/27".
func (d *Daemon) Subnet(k int) string { return fmt.Sprintf("10.215.%d.%d/27", d.slot.n, 32*k) }

// SubnetAddr is host address h of Subnet(k), e.g. "10.215.3.40".
func (d *Daemon) SubnetAddr(k, h int) string { return fmt.Sprintf("10.215.%d.%d", d.slot.n, 32*k+h) }

// Bridge is the Linux bridge of the daemon's default bridge network.
func (d *Daemon) Bridge() string { return d.slot.bridge() }

// BridgeSubnet is the subnet of the daemon's default bridge network.
func (d *Daemon) BridgeSubnet() string { return fmt.Sprintf("10.213.%d.0/24", d.slot.n) }

// Output runs a host program and returns its standard output.
func Output(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}

// FreePort is a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
