// Package bindprop decides what the propagation mode of a bind asks of
// the host (Docker's rules: a shared bind needs a shared source mount, a
// slave bind a shared or slave one), which root propagation the OCI spec
// gets, and holds the host calls that check a source's mount and clone it
// for a shim (host.go).
package bindprop

import (
	"fmt"
	"strings"
)

// Need is what a bind's propagation mode asks of its source's mount on
// the host.
type Need int

const (
	// NeedNothing: private modes (and none) work from any mount.
	NeedNothing Need = iota
	// NeedShared: shared and rshared binds make mounts flow both ways,
	// which only a shared source mount can.
	NeedShared
	// NeedSharedOrSlave: slave and rslave binds receive the host's
	// mounts, which a private source mount would never send.
	NeedSharedOrSlave
)

// Required is what propagation mode p (a Propagation word, "" for the
// default rprivate) asks of the source's mount, as Docker's WithMounts.
func Required(p string) Need {
	switch p {
	case "shared", "rshared":
		return NeedShared
	case "slave", "rslave":
		return NeedSharedOrSlave
	}
	return NeedNothing
}

// Clones reports whether a bind with propagation p must be a peer of the
// host's source mount: the daemon clones the source's mount tree in the
// host's mount namespace and hands the clone to the shim, since binding
// it from the shim's namespace (a slave of the host's) would make a
// slave, and the container's mounts would never reach the host.
func Clones(p string) bool { return Required(p) == NeedShared }

// Check answers whether a mount with the optional fields of its
// mountinfo line (e.g. "shared:3 master:1") satisfies need, with Docker's
// messages: path is the bind's source, mountpoint where its mount is.
func Check(need Need, path, mountpoint, optional string) error {
	var shared, slave bool
	for _, f := range strings.Fields(optional) {
		shared = shared || strings.HasPrefix(f, "shared:")
		slave = slave || strings.HasPrefix(f, "master:")
	}
	switch {
	case need == NeedShared && !shared:
		return fmt.Errorf("path %s is mounted on %s but it is not a shared mount", path, mountpoint)
	case need == NeedSharedOrSlave && !shared && !slave:
		return fmt.Errorf("path %s is mounted on %s but it is not a shared or slave mount", path, mountpoint)
	}
	return nil
}

// RootfsPropagation is the OCI spec's linux.rootfsPropagation for a
// container whose binds have the propagation modes props, as Docker sets
// it: "shared" when a bind is shared (the runtime's default, rslave,
// would make the container's copy of the cloned source a slave before it
// binds it), "rslave" when one is a slave, else "" (the runtime's
// default).
func RootfsPropagation(props []string) string {
	root := ""
	for _, p := range props {
		switch Required(p) {
		case NeedShared:
			return "shared"
		case NeedSharedOrSlave:
			root = "rslave"
		}
	}
	return root
}
