// Package oci builds the OCI runtime spec (config.json) of a container from
// plain inputs, with Docker's defaults: default mounts, capabilities,
// namespaces, masked and read-only paths, device rules.
//
// It is pure: no I/O, no root, no knowledge of the daemon. The caller
// resolves everything that needs the host or the image (user ids, mount
// sources, network files, rlimits) and passes the results in an Input.
//
// Seccomp filters come from Docker's own profiles (github.com/moby/profiles/seccomp).
// AppArmor and SELinux are not applied.
package oci

import (
	"fmt"
	"maps"
	"path"
	"slices"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultShmSize is the size of /dev/shm when Input.ShmSize is 0, as Docker.
const DefaultShmSize int64 = 64 << 20

// Input is everything Build needs to know about one container.
type Input struct {
	ID             string
	Hostname       string
	Domainname     string
	Rootfs         string // path of the prepared rootfs
	ReadonlyRootfs bool

	Args           []string // entrypoint and command, resolved
	Env            []string // final environment (the caller adds PATH, HOSTNAME, HOME)
	Cwd            string   // absolute; "" means "/"
	UID, GID       uint32
	AdditionalGids []uint32
	Terminal       bool
	// ConsoleSize is the terminal's initial [height, width] (HostConfig's
	// ConsoleSize); zero leaves the runtime's default. Only with Terminal.
	ConsoleSize [2]uint

	// Mounts are the user's mounts, already in OCI form, in any order: Build
	// puts parents before children.
	Mounts []Mount

	// HostsPath, HostnamePath and ResolvConfPath are host files bound at
	// /etc/hosts, /etc/hostname and /etc/resolv.conf ("" skips one); they are
	// read-only when ReadonlyRootfs. A user mount at the same path wins.
	HostsPath, HostnamePath, ResolvConfPath string

	ShmSize     int64  // bytes of /dev/shm; 0 means DefaultShmSize
	NetworkMode string // "", "private" or "none": own network namespace; "host"
	// NetworkNSPath, with a private NetworkMode, is the network namespace
	// to join (one the daemon plumbed with CNI, or another container's).
	NetworkNSPath string
	IpcMode       string // "" or "private": own IPC namespace; "none": also no /dev/shm; "host"
	PidMode       string // "" or "private"; "host"
	UTSMode       string // "" or "private"; "host" (hostname and domainname are then dropped)
	CgroupsPath   string // e.g. "/berth/<id>"

	CapAdd, CapDrop []string // Docker semantics: with or without "CAP_", any case, or "ALL"
	Privileged      bool
	// HostCapabilities, when not nil, are the capabilities the daemon holds
	// (its bounding set). A runtime cannot grant more, so the defaults,
	// "ALL" and Privileged are limited to them; names in CapAdd are kept and
	// left for the runtime to refuse. (Root may lack CAP_SYS_RESOURCE.)
	HostCapabilities []string

	// Seccomp is the seccomp filter (Docker's default profile when zero);
	// a privileged container has none.
	Seccomp Seccomp
	// MaskedPaths and ReadonlyPaths replace Docker's defaults when not nil;
	// an empty list means none (see WithSystemPaths). A privileged
	// container has none.
	MaskedPaths, ReadonlyPaths []string
	// HostDevices are the host's devices, which a privileged container
	// gets, as Docker; ignored otherwise. The caller reads them from /dev.
	HostDevices []specs.LinuxDevice

	Rlimits         []specs.POSIXRlimit // copied as given
	NoNewPrivileges bool
	Sysctls         map[string]string
	OomScoreAdj     *int
	Annotations     map[string]string

	// Resources are the cgroup limits (memory, CPU, pids, block I/O);
	// the device rules are Build's own. Nil means none.
	Resources *specs.LinuxResources

	// RootfsPropagation is linux.rootfsPropagation ("" for the runtime's
	// default): "shared" when a bind is shared, "rslave" when one is a
	// slave, as Docker sets it.
	RootfsPropagation string
}

// Mount is one mount in OCI form.
type Mount struct {
	Destination string
	Type        string // "bind", "tmpfs", ...
	Source      string
	Options     []string // e.g. ["rbind", "ro", "nosuid", "nodev", "noexec", "rprivate"]
}

// SpecOpt changes a spec. Options are small and pure so each can be tested
// alone; Build applies them in one fixed order.
type SpecOpt func(*specs.Spec) error

// Build returns the OCI spec of a container. Errors are
// errdefs.ErrInvalidArgument and name the offending value.
//
// The options are applied in this order, which matters where noted:
//
//  1. Docker's default spec (defaultSpec).
//  2. the process: args, env, cwd, user, terminal, rlimits, no-new-privileges, OOM score.
//  3. the root filesystem and its read-only flag.
//  4. hostname and domainname.
//  5. namespaces (after 4: a host UTS namespace drops the hostname).
//  6. capabilities (after 2: a non-root user gets only the bounding set, as Docker).
//  7. mounts (after 3: a read-only root makes the default /sys mounts read-only).
//  8. masked and read-only paths.
//  9. privileged (after 7 and 8: it makes /sys and cgroups writable again and
//     drops masked and read-only paths, as Docker).
//  10. seccomp (after 6: the profile enables syscalls by capability).
//  11. cgroups path, sysctls, annotations.
//  12. resource limits (after 9: they keep the device rules).
func Build(in Input) (*specs.Spec, error) {
	if in.Rootfs == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage("no root filesystem given")
	}
	opts := []SpecOpt{
		withProcess(in),
		WithRoot(in.Rootfs, in.ReadonlyRootfs),
		WithHostname(in.Hostname, in.Domainname),
		WithNamespaces(in.NetworkMode, in.IpcMode, in.PidMode, in.UTSMode),
		WithNetworkNamespacePath(in.NetworkNSPath),
		WithCapabilities(in.CapAdd, in.CapDrop, in.Privileged, in.HostCapabilities),
		WithMounts(in),
		WithSystemPaths(in.MaskedPaths, in.ReadonlyPaths),
		WithPrivileged(in.Privileged, in.HostDevices),
		WithSeccomp(in.Seccomp, in.Privileged),
		withLinux(in),
		WithResources(in.Resources),
	}
	s := defaultSpec()
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func withProcess(in Input) SpecOpt {
	return func(s *specs.Spec) error {
		if len(in.Args) == 0 {
			return errdefs.ErrInvalidArgument.WithMessage("no command specified")
		}
		cwd := in.Cwd
		if cwd == "" {
			cwd = "/"
		}
		if !path.IsAbs(cwd) {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("working directory %q is not an absolute path", cwd))
		}
		p := s.Process
		p.Terminal = in.Terminal
		if in.Terminal && in.ConsoleSize != [2]uint{} {
			p.ConsoleSize = &specs.Box{Height: in.ConsoleSize[0], Width: in.ConsoleSize[1]}
		}
		p.User = specs.User{UID: in.UID, GID: in.GID, AdditionalGids: slices.Clone(in.AdditionalGids)}
		p.Args = slices.Clone(in.Args)
		p.Env = slices.Clone(in.Env)
		p.Cwd = path.Clean(cwd)
		p.Rlimits = slices.Clone(in.Rlimits)
		p.NoNewPrivileges = in.NoNewPrivileges
		if in.OomScoreAdj != nil {
			v := *in.OomScoreAdj
			p.OOMScoreAdj = &v
		}
		return nil
	}
}

// WithRoot sets the root filesystem and whether it is read-only.
func WithRoot(rootfs string, readonly bool) SpecOpt {
	return func(s *specs.Spec) error {
		s.Root = &specs.Root{Path: rootfs, Readonly: readonly}
		return nil
	}
}

// WithHostname sets the container's hostname and domainname.
func WithHostname(hostname, domainname string) SpecOpt {
	return func(s *specs.Spec) error {
		s.Hostname = hostname
		s.Domainname = domainname
		return nil
	}
}

// WithNamespaces sets the namespaces for the network, IPC, PID and UTS modes
// of Input. A mount namespace is always new; a cgroup namespace is not
// requested (the runtime's default, as Docker on cgroup v1 hosts).
func WithNamespaces(network, ipc, pid, uts string) SpecOpt {
	return func(s *specs.Spec) error {
		// own reports whether mode asks for a new namespace.
		own := func(kind, mode string, news ...string) (bool, error) {
			switch {
			case mode == "host":
				return false, nil
			case mode == "" || slices.Contains(news, mode):
				return true, nil
			}
			return false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unsupported %s mode %q", kind, mode))
		}
		ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
		for _, n := range []struct {
			typ        specs.LinuxNamespaceType
			kind, mode string
			news       []string
		}{
			// Docker's order: mount, network, uts, pid, ipc.
			{specs.NetworkNamespace, "network", network, []string{"private", "none"}},
			{specs.UTSNamespace, "UTS", uts, []string{"private"}},
			{specs.PIDNamespace, "PID", pid, []string{"private"}},
			{specs.IPCNamespace, "IPC", ipc, []string{"private", "none"}},
		} {
			ok, err := own(n.kind, n.mode, n.news...)
			if err != nil {
				return err
			}
			if ok {
				ns = append(ns, specs.LinuxNamespace{Type: n.typ})
			}
		}
		if uts == "host" {
			// The runtime cannot set a hostname without its own UTS namespace.
			s.Hostname, s.Domainname = "", ""
		}
		s.Linux.Namespaces = ns
		return nil
	}
}

// WithNetworkNamespacePath makes the container join the network namespace
// at path instead of getting a new one; "" changes nothing. It follows
// WithNamespaces.
func WithNetworkNamespacePath(path string) SpecOpt {
	return func(s *specs.Spec) error {
		if path == "" {
			return nil
		}
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = path
				return nil
			}
		}
		return errdefs.ErrInvalidArgument.WithMessage("a network namespace path needs a private network mode")
	}
}

// WithCapabilities sets the capability sets: Docker's defaults with add and
// drop applied (see Capabilities), limited to host when it is not nil
// (except for names in add; see Input.HostCapabilities). As Docker (and
// execve), a non-root user gets only the bounding set; inheritable and
// ambient sets stay empty.
func WithCapabilities(add, drop []string, privileged bool, host []string) SpecOpt {
	return func(s *specs.Spec) error {
		caps, err := Capabilities(add, drop, privileged)
		if err != nil {
			return err
		}
		if host != nil {
			explicit, _ := NormalizeCapabilities(add) // validated by Capabilities
			caps = slices.DeleteFunc(caps, func(c string) bool {
				return !slices.Contains(host, c) && !slices.Contains(explicit, c)
			})
		}
		c := &specs.LinuxCapabilities{Bounding: caps}
		if s.Process.User.UID == 0 {
			c.Effective = slices.Clone(caps)
			c.Permitted = slices.Clone(caps)
		}
		s.Process.Capabilities = c
		return nil
	}
}

// WithPrivileged, when privileged, lifts the confinement Docker lifts for
// --privileged: no masked or read-only paths, /sys and cgroup mounts
// writable, the host's devices (read by the caller) created in the
// container and every device allowed in the device cgroup. (Every
// capability: WithCapabilities; no seccomp filter: WithSeccomp.)
func WithPrivileged(privileged bool, hostDevices []specs.LinuxDevice) SpecOpt {
	return func(s *specs.Spec) error {
		if !privileged {
			return nil
		}
		s.Linux.MaskedPaths = nil
		s.Linux.ReadonlyPaths = nil
		for i, m := range s.Mounts {
			if m.Destination == "/sys" || m.Type == "cgroup" {
				s.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
			}
		}
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		s.Linux.Devices = slices.Clone(hostDevices)
		return nil
	}
}

func withLinux(in Input) SpecOpt {
	return func(s *specs.Spec) error {
		s.Linux.CgroupsPath = in.CgroupsPath
		s.Linux.RootfsPropagation = in.RootfsPropagation
		s.Linux.Sysctl = maps.Clone(in.Sysctls)
		s.Annotations = maps.Clone(in.Annotations)
		return nil
	}
}

// WithResources sets the cgroup limits of r, keeping the spec's device
// rules.
func WithResources(r *specs.LinuxResources) SpecOpt {
	return func(s *specs.Spec) error {
		if r == nil {
			return nil
		}
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		devices := s.Linux.Resources.Devices
		res := *r
		res.Devices = devices
		s.Linux.Resources = &res
		return nil
	}
}
