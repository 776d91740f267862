package oci

import (
	"fmt"
	"path"
	"slices"

	"github.com/containerd/errdefs"
	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Seccomp says which seccomp filter a container gets.
type Seccomp struct {
	// Unconfined runs the container without a filter
	// (--security-opt seccomp=unconfined).
	Unconfined bool
	// Profile is a profile in Docker's JSON format; "" means Docker's
	// default profile.
	Profile string
}

// WithSeccomp sets the seccomp filter: none when privileged or unconfined,
// as Docker; else the profile (Docker's default when sc.Profile is "")
// made concrete for this spec. Profiles enable some syscalls by the
// container's bounding capabilities (mount and unshare with CAP_SYS_ADMIN,
// ...), so it must run after WithCapabilities. (The profile module also
// reads the host's kernel version for rules with a minimum kernel.)
func WithSeccomp(sc Seccomp, privileged bool) SpecOpt {
	return func(s *specs.Spec) error {
		s.Linux.Seccomp = nil
		if privileged || sc.Unconfined {
			return nil
		}
		if s.Process == nil || s.Process.Capabilities == nil {
			return fmt.Errorf("seccomp needs the capabilities set first: %w", errdefs.ErrInternal)
		}
		var (
			p   *specs.LinuxSeccomp
			err error
		)
		if sc.Profile == "" {
			p, err = seccomp.GetDefaultProfile(s)
		} else {
			p, err = seccomp.LoadProfile(sc.Profile, s)
		}
		if err != nil {
			return fmt.Errorf("invalid seccomp profile: %w: %w", err, errdefs.ErrInvalidArgument)
		}
		s.Linux.Seccomp = p
		return nil
	}
}

// DefaultMaskedPaths returns the paths Docker hides from a container.
func DefaultMaskedPaths() []string { return slices.Clone(maskedPaths) }

// DefaultReadonlyPaths returns the paths Docker makes read-only in a
// container.
func DefaultReadonlyPaths() []string { return slices.Clone(readonlyPaths) }

// WithSystemPaths replaces the default masked and read-only paths by
// masked and readonly where they are not nil (HostConfig.MaskedPaths and
// ReadonlyPaths: nil means Docker's defaults, an empty list none, which is
// what `--security-opt systempaths=unconfined` sends). Paths must be
// absolute.
func WithSystemPaths(masked, readonly []string) SpecOpt {
	return func(s *specs.Spec) error {
		for _, p := range slices.Concat(masked, readonly) {
			if !path.IsAbs(p) {
				return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("masked or read-only path %q is not an absolute path", p))
			}
		}
		if masked != nil {
			s.Linux.MaskedPaths = slices.Clone(masked)
		}
		if readonly != nil {
			s.Linux.ReadonlyPaths = slices.Clone(readonly)
		}
		return nil
	}
}
