package oci

import (
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
)

// defaultCapabilities are the capabilities Docker grants a container.
var defaultCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
}

// allCapabilities are the Linux capabilities, in number order (0 to 40).
// Runtimes skip the ones an older kernel does not know.
var allCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities returns the capabilities a container gets by default.
func DefaultCapabilities() []string { return slices.Clone(defaultCapabilities) }

// Capabilities returns a container's capability set with Docker's rules:
// privileged gets every capability; otherwise the defaults minus drop plus
// add, where "ALL" in add means every capability except those in drop, and
// "ALL" in drop (without "ALL" in add) means only those in add. Names are
// case-insensitive, with or without the "CAP_" prefix. An unknown name is
// errdefs.ErrInvalidArgument. The result has no duplicates.
func Capabilities(add, drop []string, privileged bool) ([]string, error) {
	if privileged {
		return slices.Clone(allCapabilities), nil
	}
	adds, err := NormalizeCapabilities(add)
	if err != nil {
		return nil, err
	}
	drops, err := NormalizeCapabilities(drop)
	if err != nil {
		return nil, err
	}
	var base []string
	switch {
	case slices.Contains(adds, "ALL"):
		base, adds = allCapabilities, nil
	case slices.Contains(drops, "ALL"):
		base = nil
	default:
		base = defaultCapabilities
	}
	var caps []string
	for _, c := range base {
		if !slices.Contains(drops, c) {
			caps = append(caps, c)
		}
	}
	for _, c := range adds {
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	if caps == nil {
		caps = []string{} // an explicit empty set, not "unset"
	}
	return caps, nil
}

// NormalizeCapabilities upper-cases names and adds the CAP_ prefix, as
// Docker; "ALL" stays. An unknown name is errdefs.ErrInvalidArgument with
// Docker's message (unknown capability: "CAP_FOO").
func NormalizeCapabilities(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, name := range names {
		c := strings.ToUpper(name)
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if c != "ALL" && !slices.Contains(allCapabilities, c) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unknown capability: %q", c))
		}
		out = append(out, c)
	}
	return out, nil
}

// CapabilitiesFromMask names the capabilities set in a mask such as the
// CapBnd line of /proc/self/status (bit N is capability N).
func CapabilitiesFromMask(mask uint64) []string {
	var out []string
	for i, name := range allCapabilities {
		if mask&(1<<uint(i)) != 0 {
			out = append(out, name)
		}
	}
	return out
}
