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

// rule is one iptables rule in the filter table.
type rule struct {
	chain string
	spec  []string
}

// isolationRules are the rules of one bridge.
func isolationRules(bridge string, internal bool) []rule {
	if internal {
		return []rule{
			{isolationStage1, []string{"-i", bridge, "!", "-o", bridge, "-j", "DROP"}},
			{isolationStage1, []string{"!", "-i", bridge, "-o", bridge, "-j", "DROP"}},
		}
	}
	return []rule{
		{isolationStage1, []string{"-i", bridge, "!", "-o", bridge, "-j", isolationStage2}},
		{isolationStage2, []string{"-o", bridge, "-j", "DROP"}},
	}
}

// iptables runs the iptables command on the filter table.
func iptables(args ...string) error {
	cmd := exec.Command("iptables", append([]string{"-w", "-t", "filter"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// EnsureIsolation installs the chains (once) and bridge's rules; it is
// idempotent.
func EnsureIsolation(bridge string, internal bool) error {
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
	for _, r := range isolationRules(bridge, internal) {
		if iptables(append([]string{"-C", r.chain}, r.spec...)...) == nil {
			continue
		}
		if err := iptables(append([]string{"-I", r.chain, "1"}, r.spec...)...); err != nil {
			return err
		}
	}
	return nil
}

// RemoveIsolation deletes bridge's rules; missing ones are fine.
func RemoveIsolation(bridge string, internal bool) {
	for _, r := range isolationRules(bridge, internal) {
		for iptables(append([]string{"-D", r.chain}, r.spec...)...) == nil {
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
