package daemon

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/daemon/oci"
	"github.com/berth-project/berth/daemon/secopts"
)

// validateSecurity checks a create request's security settings, as Docker:
// SecurityOpt (parsed with secopts, as start parses it again), the
// capability names of CapAdd and CapDrop, and MaskedPaths and
// ReadonlyPaths. It completes hc as Docker does, so inspect shows what the
// container gets: systempaths=unconfined empties both lists, and a
// container that is not privileged gets the default lists when it gives
// none.
func validateSecurity(hc *containertypes.HostConfig, host secopts.Host) error {
	sec, err := secopts.Parse(hc.SecurityOpt, host)
	if err != nil {
		return err
	}
	if _, err := oci.NormalizeCapabilities(hc.CapAdd); err != nil {
		return fmt.Errorf("invalid CapAdd: %w", err)
	}
	if _, err := oci.NormalizeCapabilities(hc.CapDrop); err != nil {
		return fmt.Errorf("invalid CapDrop: %w", err)
	}
	for _, p := range slices.Concat(hc.MaskedPaths, hc.ReadonlyPaths) {
		if !path.IsAbs(p) {
			return fmt.Errorf("invalid MaskedPaths or ReadonlyPaths: %q is not an absolute path: %w", p, errInvalid)
		}
	}
	if sec.SystemPathsUnconfined {
		hc.MaskedPaths, hc.ReadonlyPaths = []string{}, []string{}
	}
	if !hc.Privileged {
		if hc.MaskedPaths == nil {
			hc.MaskedPaths = oci.DefaultMaskedPaths()
		}
		if hc.ReadonlyPaths == nil {
			hc.ReadonlyPaths = oci.DefaultReadonlyPaths()
		}
	}
	return nil
}

// applySecurity puts a container's security settings into in: its
// SecurityOpt (validated at create) with the daemon's default seccomp
// profile, masked and read-only paths, and for a privileged container the
// host's devices.
func applySecurity(in *oci.Input, hc *containertypes.HostConfig, daemonSeccomp oci.Seccomp) error {
	sec, err := secopts.Parse(hc.SecurityOpt, hostSecurity())
	if err != nil {
		return err
	}
	in.NoNewPrivileges = sec.NoNewPrivileges
	in.Seccomp = seccompFor(sec, daemonSeccomp)
	in.MaskedPaths, in.ReadonlyPaths = hc.MaskedPaths, hc.ReadonlyPaths
	if hc.Privileged {
		if in.HostDevices, err = hostDevices("/dev"); err != nil {
			return fmt.Errorf("read the host's devices: %w", err)
		}
	}
	return nil
}

// seccompFor resolves a container's seccomp choice against the daemon's
// default profile.
func seccompFor(sec secopts.Options, daemonDefault oci.Seccomp) oci.Seccomp {
	switch sec.Seccomp {
	case secopts.SeccompBuiltin:
		return oci.Seccomp{}
	case secopts.SeccompUnconfined:
		return oci.Seccomp{Unconfined: true}
	case secopts.SeccompCustom:
		return oci.Seccomp{Profile: sec.SeccompProfile}
	}
	return daemonDefault
}

// loadSeccompProfile reads berthd's --seccomp-profile once, at start:
// "" or "builtin" is Docker's default profile, "unconfined" none, anything
// else a profile file, checked as a container's profile is.
func loadSeccompProfile(value string) (oci.Seccomp, error) {
	switch value {
	case "", "builtin":
		return oci.Seccomp{}, nil
	case "unconfined":
		return oci.Seccomp{Unconfined: true}, nil
	}
	data, err := os.ReadFile(value)
	if err != nil {
		return oci.Seccomp{}, fmt.Errorf("seccomp-profile: %w", err)
	}
	if err := secopts.CheckSeccompProfile(string(data)); err != nil {
		return oci.Seccomp{}, fmt.Errorf("seccomp-profile %s: %w", value, err)
	}
	return oci.Seccomp{Profile: string(data)}, nil
}

// seccompInfo is the seccomp entry of info's SecurityOptions, as Docker's:
// the profile is "builtin", "unconfined" or the path given to berthd.
func seccompInfo(value string) string {
	if value == "" {
		value = "builtin"
	}
	return "name=seccomp,profile=" + value
}

// hostSecurity tells which security modules this host enforces; they do
// not change while the daemon runs.
var hostSecurity = sync.OnceValue(func() secopts.Host {
	aa, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return secopts.Host{
		AppArmor: strings.HasPrefix(string(aa), "Y"),
		SELinux:  err == nil,
	}
})

// hostDevices lists the device nodes under dir (the host's /dev), which a
// privileged container gets, as Docker (containerd's HostDevices): not
// those of the pseudo-terminal, shared memory and message queue
// filesystems nor /dev/console, which the runtime provides itself.
// Symbolic links are not followed.
func hostDevices(dir string) ([]specs.LinuxDevice, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []specs.LinuxDevice
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			switch e.Name() {
			case "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev":
				continue
			}
			sub, err := hostDevices(p)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		if e.Name() == "console" {
			continue
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // gone meanwhile
			}
			return nil, err
		}
		var typ string
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
			typ = "c"
		case unix.S_IFBLK:
			typ = "b"
		default:
			continue
		}
		mode := os.FileMode(st.Mode & 0o777)
		uid, gid := st.Uid, st.Gid
		out = append(out, specs.LinuxDevice{
			Path:     p,
			Type:     typ,
			Major:    int64(unix.Major(st.Rdev)),
			Minor:    int64(unix.Minor(st.Rdev)),
			FileMode: &mode,
			UID:      &uid,
			GID:      &gid,
		})
	}
	return out, nil
}
