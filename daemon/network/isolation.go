package network

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// The bridge plugin masquerades and portmap publishes, but nothing keeps
// two bridges from routing to each other, and an internal network needs
// its traffic kept on its bridge. These chains do that as Docker's
// DOCKER-ISOLATION chains do: a packet entering from one Berth bridge and
// leaving by another is dropped.
const (
	isolationStage1 = "BERTH-ISOLATION-STAGE-1"
	isolationStage2 = "BERTH-ISOLATION-STAGE-2"
)

// rule is one iptables rule.
type rule struct {
	table string // "" is filter
	chain string
	spec  []string
}

func (r rule) args(op string, pos ...string) []string {
	table := r.table
	if table == "" {
		table = "filter"
	}
	return append(append([]string{"-t", table, op, r.chain}, pos...), r.spec...)
}

// masqueradeRule is Docker's outbound NAT for a network: what leaves the
// subnet by another interface than the bridge is masqueraded. One rule per
// network, instead of the bridge plugin's ipMasq, which writes a chain and
// three rules per container and costs a dozen iptables calls at every
// start and stop.
func masqueradeRule(n Network) rule {
	return rule{table: "nat", chain: "POSTROUTING", spec: []string{"-s", n.Subnet.Masked().String(), "!", "-o", n.Bridge, "-j", "MASQUERADE"}}
}

// networkRules are the rules of network n: isolation, and masquerade
// unless it is internal.
func networkRules(n Network) []rule {
	rs := isolationRules(n.Bridge, n.Internal)
	if !n.Internal {
		rs = append(rs, masqueradeRule(n))
	}
	return rs
}

// isolationRules are the rules of one bridge.
func isolationRules(bridge string, internal bool) []rule {
	if internal {
		return []rule{
			{chain: isolationStage1, spec: []string{"-i", bridge, "!", "-o", bridge, "-j", "DROP"}},
			{chain: isolationStage1, spec: []string{"!", "-i", bridge, "-o", bridge, "-j", "DROP"}},
		}
	}
	return []rule{
		{chain: isolationStage1, spec: []string{"-i", bridge, "!", "-o", bridge, "-j", isolationStage2}},
		{chain: isolationStage2, spec: []string{"-o", bridge, "-j", "DROP"}},
	}
}

// iptables runs the iptables command (the filter table unless args name
// another).
func iptables(args ...string) error {
	if len(args) == 0 || args[0] != "-t" {
		args = append([]string{"-t", "filter"}, args...)
	}
	cmd := exec.Command("iptables", append([]string{"-w"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// EnsureRules installs the chains (once) and n's rules; it is idempotent.
func EnsureRules(n Network) error {
	for _, c := range []string{isolationStage1, isolationStage2} {
		if iptables("-n", "-L", c) != nil {
			if err := iptables("-N", c); err != nil && iptables("-n", "-L", c) != nil {
				return err
			}
		}
	}
	if iptables("-C", "FORWARD", "-j", isolationStage1) != nil {
		if err := iptables("-I", "FORWARD", "1", "-j", isolationStage1); err != nil {
			return err
		}
	}
	for _, r := range networkRules(n) {
		if iptables(r.args("-C")...) == nil {
			continue
		}
		if err := iptables(r.args("-I", "1")...); err != nil {
			return err
		}
	}
	return nil
}

// RemoveRules deletes n's rules; missing ones are fine.
func RemoveRules(n Network) {
	for _, r := range networkRules(n) {
		for iptables(r.args("-D")...) == nil {
		}
	}
}

// DeleteBridge removes the Linux bridge of a removed network (the bridge
// plugin creates bridges but never deletes them).
func DeleteBridge(name string) error {
	if _, err := exec.LookPath("ip"); err != nil {
		return err
	}
	out, err := exec.Command("ip", "link", "delete", name, "type", "bridge").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "Cannot find device") {
		return fmt.Errorf("delete bridge %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}
