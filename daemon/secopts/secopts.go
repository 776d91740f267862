// Package secopts parses a container's HostConfig.SecurityOpt into typed
// options, with Docker's syntax and rules (moby's parseSecurityOpt):
// KEY=VALUE, the deprecated KEY:VALUE, "no-new-privileges" alone and
// "disable" (label=disable). The daemon parses them at create, so that bad
// options are a 400 then and never a failed start.
package secopts

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/daemon/oci"
)

// Seccomp is the seccomp choice of a container.
type Seccomp int

const (
	// SeccompDaemonDefault: no seccomp option; the daemon's profile
	// (berthd --seccomp-profile; Docker's default profile unless set).
	SeccompDaemonDefault Seccomp = iota
	// SeccompBuiltin: seccomp=builtin, Docker's default profile.
	SeccompBuiltin
	// SeccompUnconfined: seccomp=unconfined, no filter.
	SeccompUnconfined
	// SeccompCustom: seccomp=<JSON>, the profile in Options.SeccompProfile.
	SeccompCustom
)

// Options are a container's security options.
type Options struct {
	Seccomp Seccomp
	// SeccompProfile is the seccomp profile in Docker's JSON format (the
	// docker CLI sends a file's content) when Seccomp is SeccompCustom.
	SeccompProfile string
	// NoNewPrivileges sets the process's no_new_privs bit.
	NoNewPrivileges bool
	// SystemPathsUnconfined asks for no masked and no read-only paths
	// (the docker CLI turns this option into empty HostConfig.MaskedPaths
	// and ReadonlyPaths; Berth also takes it from API clients).
	SystemPathsUnconfined bool
	// Labels are the SELinux label options (label=...) as given; Berth
	// applies no SELinux labels (see Host).
	Labels []string
	// AppArmorProfile is the apparmor=... value; Berth applies no AppArmor
	// profile (see Host).
	AppArmorProfile string
}

// Host tells which security modules the host enforces. Berth applies
// neither AppArmor profiles nor SELinux labels. Where the module is absent,
// Docker accepts any apparmor= or label= value and it has no effect, and so
// does Berth; where it is present, a value that asks for confinement would
// be silently ignored, so only "apparmor=unconfined" and "label=disable"
// (which ask for none) are accepted.
type Host struct {
	AppArmor bool
	SELinux  bool
}

// Keys that Parse knows, for error messages.
const knownKeys = "seccomp, no-new-privileges, label, apparmor, systempaths"

// labelKinds are the SELinux label options with a value (label=KIND:VALUE),
// as go-selinux's.
var labelKinds = []string{"user", "role", "type", "level", "filetype"}

// Parse parses opts. Errors are errdefs.ErrInvalidArgument and name the
// offending option (a seccomp profile only by its key: it may be large).
func Parse(opts []string, host Host) (Options, error) {
	var o Options
	for _, opt := range opts {
		if opt == "no-new-privileges" {
			o.NoNewPrivileges = true
			continue
		}
		if opt == "disable" {
			opt = "label=disable"
		}
		var k, v string
		var ok bool
		if strings.Contains(opt, "=") {
			k, v, ok = strings.Cut(opt, "=")
		} else {
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok {
			return Options{}, invalid(opt, "want KEY=VALUE (%s)", knownKeys)
		}
		switch k {
		case "seccomp":
			if err := o.parseSeccomp(v); err != nil {
				return Options{}, err
			}
		case "no-new-privileges":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Options{}, invalid(opt, "%q is not a boolean", v)
			}
			o.NoNewPrivileges = b
		case "label":
			if err := checkLabel(v, host.SELinux); err != nil {
				return Options{}, invalid(opt, "%s", err)
			}
			o.Labels = append(o.Labels, v)
		case "apparmor":
			if v == "" {
				return Options{}, invalid(opt, "no AppArmor profile given")
			}
			if host.AppArmor && v != "unconfined" {
				return Options{}, invalid(opt, "berth does not apply AppArmor profiles: only apparmor=unconfined is accepted on this host")
			}
			o.AppArmorProfile = v
		case "systempaths":
			if v != "unconfined" {
				return Options{}, invalid(opt, "the only value is unconfined")
			}
			o.SystemPathsUnconfined = true
		case "writable-cgroups":
			return Options{}, invalid(opt, "writable-cgroups is not supported by berth")
		default:
			return Options{}, invalid(opt, "unknown option %q (berth knows %s)", k, knownKeys)
		}
	}
	return o, nil
}

func invalid(opt, format string, args ...any) error {
	if len(opt) > 80 {
		opt = opt[:77] + "..."
	}
	return fmt.Errorf("invalid --security-opt %q: %s: %w", opt, fmt.Sprintf(format, args...), errdefs.ErrInvalidArgument)
}

// parseSeccomp takes "unconfined", "builtin" (Docker's default profile)
// or a profile's JSON content.
func (o *Options) parseSeccomp(v string) error {
	switch v {
	case "unconfined":
		o.Seccomp, o.SeccompProfile = SeccompUnconfined, ""
		return nil
	case "builtin":
		o.Seccomp, o.SeccompProfile = SeccompBuiltin, ""
		return nil
	case "":
		return invalid("seccomp=", "no profile given (unconfined, builtin or a profile's JSON)")
	}
	if err := CheckSeccompProfile(v); err != nil {
		return fmt.Errorf("invalid --security-opt seccomp: %w", err)
	}
	o.Seccomp, o.SeccompProfile = SeccompCustom, v
	return nil
}

// CheckSeccompProfile checks a seccomp profile in Docker's JSON format as
// far as it can without a runtime: valid JSON, a valid structure, known
// actions, architectures and operators.
func CheckSeccompProfile(profile string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("not a valid seccomp profile: %s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalidArgument)
	}
	var raw seccomp.Seccomp
	if err := json.Unmarshal([]byte(profile), &raw); err != nil {
		hint := ""
		if !strings.HasPrefix(strings.TrimSpace(profile), "{") {
			hint = " (give the profile's content, as the docker and berth CLIs do with a file name)"
		}
		return bad("not a JSON profile%s: %v", hint, err)
	}
	// A profile's rules depend on the capabilities: all of them make every
	// rule count.
	all, _ := oci.Capabilities(nil, nil, true)
	spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: all}}}
	p, err := seccomp.LoadProfile(profile, spec)
	if err != nil {
		return bad("%v", err)
	}
	if p == nil {
		return nil // no default action and no rules: no filter, as Docker
	}
	if p.DefaultAction == "" {
		return bad("no defaultAction")
	}
	if !slices.Contains(actions, p.DefaultAction) {
		return bad("unknown defaultAction %q", p.DefaultAction)
	}
	for _, a := range p.Architectures {
		if !slices.Contains(arches, a) {
			return bad("unknown architecture %q", a)
		}
	}
	for _, sc := range p.Syscalls {
		if len(sc.Names) == 0 {
			return bad("a syscall rule has no names")
		}
		if !slices.Contains(actions, sc.Action) {
			return bad("unknown action %q for %s", sc.Action, strings.Join(sc.Names, ","))
		}
		for _, a := range sc.Args {
			if !slices.Contains(operators, a.Op) {
				return bad("unknown operator %q for %s", a.Op, strings.Join(sc.Names, ","))
			}
		}
	}
	return nil
}

// checkLabel accepts the SELinux label options Docker accepts.
func checkLabel(v string, selinux bool) error {
	if v == "disable" {
		return nil
	}
	if selinux {
		return fmt.Errorf("berth does not apply SELinux labels: only label=disable is accepted on this host")
	}
	kind, val, ok := strings.Cut(v, ":")
	if !ok || val == "" || !slices.Contains(labelKinds, kind) {
		return fmt.Errorf("want disable or KIND:VALUE with KIND one of %s", strings.Join(labelKinds, ", "))
	}
	return nil
}

var actions = []specs.LinuxSeccompAction{
	specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap, specs.ActErrno,
	specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify,
}

var operators = []specs.LinuxSeccompOperator{
	specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
	specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
}

var arches = []specs.Arch{
	specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
	specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64,
	specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390,
	specs.ArchS390X, specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64,
}
