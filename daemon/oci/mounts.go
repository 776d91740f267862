package oci

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// WithMounts sets the container's mounts from in: the default mounts (those
// a user mount replaces left out), then the daemon's binds (network files,
// the host's /dev/shm for IpcMode "host") and the user's mounts, sorted
// together parents first so that a user tmpfs on /etc does not hide the
// network files.
//
// As Docker: a user mount at a default destination replaces that default; a
// user mount at /dev removes every default under /dev/; /dev/shm gets
// ShmSize (or DefaultShmSize) unless IpcMode is "none" (no /dev/shm) or
// "host"; with a read-only root the defaults other than /proc and /dev/* get
// "ro" (in practice only /sys and /sys/fs/cgroup, which are already
// read-only), and the network files are bound read-only.
func WithMounts(in Input) SpecOpt {
	return func(s *specs.Spec) error {
		if in.ShmSize < 0 {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid shm size %d: must not be negative", in.ShmSize))
		}
		shmSize := in.ShmSize
		if shmSize == 0 {
			shmSize = DefaultShmSize
		}

		user := make(map[string]bool, len(in.Mounts))
		var rest []specs.Mount // daemon binds, then user mounts; sorted below
		userMounts := make([]specs.Mount, 0, len(in.Mounts))
		for _, m := range in.Mounts {
			if !path.IsAbs(m.Destination) {
				return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("mount destination %q is not an absolute path", m.Destination))
			}
			if m.Type == "" {
				return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("mount at %q has no type", m.Destination))
			}
			dest := path.Clean(m.Destination)
			if dest == "/" {
				return errdefs.ErrInvalidArgument.WithMessage("mount destination can't be '/'")
			}
			if user[dest] {
				return errdefs.ErrInvalidArgument.WithMessage("Duplicate mount point: " + dest)
			}
			user[dest] = true
			userMounts = append(userMounts, specs.Mount{
				Destination: dest,
				Type:        m.Type,
				Source:      m.Source,
				Options:     slices.Clone(m.Options),
			})
		}

		var mounts []specs.Mount
		for _, m := range s.Mounts {
			switch {
			case user[m.Destination]:
				continue // replaced by the user's mount
			case user["/dev"] && strings.HasPrefix(m.Destination, "/dev/"):
				continue
			case m.Destination == "/dev/shm" && (in.IpcMode == "none" || in.IpcMode == "host"):
				continue
			}
			m.Options = slices.Clone(m.Options)
			if m.Destination == "/dev/shm" {
				m.Options = append(m.Options, "size="+strconv.FormatInt(shmSize, 10))
			}
			if in.ReadonlyRootfs && !writableWithReadonlyRoot(m.Destination) && !slices.Contains(m.Options, "ro") {
				m.Options = append(m.Options, "ro")
			}
			mounts = append(mounts, m)
		}

		bind := func(dest, source string, readonly bool) {
			if source == "" || user[dest] {
				return
			}
			opts := []string{"rbind"}
			if readonly {
				opts = append(opts, "ro")
			}
			rest = append(rest, specs.Mount{
				Destination: dest,
				Type:        "bind",
				Source:      source,
				Options:     append(opts, "rprivate"),
			})
		}
		if in.IpcMode == "host" {
			bind("/dev/shm", "/dev/shm", false)
		}
		bind("/etc/hosts", in.HostsPath, in.ReadonlyRootfs)
		bind("/etc/hostname", in.HostnamePath, in.ReadonlyRootfs)
		bind("/etc/resolv.conf", in.ResolvConfPath, in.ReadonlyRootfs)
		rest = append(rest, userMounts...)
		SortMounts(rest)

		s.Mounts = append(mounts, rest...)
		return nil
	}
}

// writableWithReadonlyRoot reports whether a default mount stays writable on
// a read-only root: --read-only is about the container's own files, not the
// auxiliary filesystems (Docker, moby#36503).
func writableWithReadonlyRoot(dest string) bool {
	switch dest {
	case "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue":
		return true
	}
	return false
}

// SortMounts sorts mounts in place so that every mount comes after the
// mounts of its parent directories: by the depth of the cleaned destination,
// keeping the given order among mounts of equal depth.
func SortMounts(mounts []specs.Mount) {
	slices.SortStableFunc(mounts, func(a, b specs.Mount) int {
		return depth(a.Destination) - depth(b.Destination)
	})
}

// depth is the number of path components of p ("/" is 0, "/a/b" is 2).
func depth(p string) int {
	p = path.Clean("/" + p)
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}
