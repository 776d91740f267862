package mountspec

import (
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"strings"

	mounttypes "github.com/moby/moby/api/types/mount"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// parseBind parses a -v/Binds entry: SRC:DST[:MODE] or DST alone.
func parseBind(spec string) (container.Mount, error) {
	parts := strings.Split(spec, ":")
	var src, dst, mode string
	switch len(parts) {
	case 1:
		dst = parts[0]
	case 2:
		src, dst = parts[0], parts[1]
		if !path.IsAbs(dst) && path.IsAbs(src) {
			// DST:MODE is not a form Docker accepts for binds either
			return container.Mount{}, fmt.Errorf("invalid volume specification: '%s': %w", spec, errInvalid)
		}
	case 3:
		src, dst, mode = parts[0], parts[1], parts[2]
	default:
		return container.Mount{}, fmt.Errorf("invalid volume specification: '%s': %w", spec, errInvalid)
	}
	dst, err := destination(dst)
	if err != nil {
		return container.Mount{}, fmt.Errorf("invalid volume specification: '%s': %w", spec, err)
	}
	m := container.Mount{Destination: dst, Mode: mode}
	for _, o := range strings.Split(mode, ",") {
		switch {
		case o == "ro":
			m.ReadOnly = true
		case tmpfsopt.IsReadOnlyWord(o):
		case tmpfsopt.IsPropagationWord(o):
			m.Propagation = o
		case o == "", o == "z", o == "Z", o == "nocopy", o == "consistent", o == "cached", o == "delegated":
			// SELinux labels and macOS consistency hints: nothing to do here
		default:
			return container.Mount{}, fmt.Errorf("invalid mode: %s: %w", o, errInvalid)
		}
	}
	switch {
	case src == "":
		m.Type, m.Anonymous, m.Driver = container.MountVolume, true, "local"
	case path.IsAbs(src):
		m.Type, m.Source = container.MountBind, filepath.Clean(src)
	default:
		m.Type, m.VolumeName, m.Source, m.Driver = container.MountVolume, src, src, "local"
	}
	return m, nil
}

// apiMount validates one HostConfig.Mounts entry with Docker's messages.
// That a bind's source exists is for the caller to check: it is the host's.
func apiMount(spec mounttypes.Mount, img ImageFS, policy Policy) (container.Mount, error) {
	wrap := func(err error) error {
		return fmt.Errorf("invalid mount config for type %q: %w", spec.Type, err)
	}
	if spec.Target == "" {
		return container.Mount{}, wrap(fmt.Errorf("field Target must not be empty: %w", errInvalid))
	}
	dst, err := destination(spec.Target)
	if err != nil {
		return container.Mount{}, wrap(err)
	}
	m := container.Mount{Destination: dst, ReadOnly: spec.ReadOnly, FromAPIMounts: true}
	if spec.Type != mounttypes.TypeTmpfs && spec.TmpfsOptions != nil {
		return container.Mount{}, fmt.Errorf("TmpfsOptions must not be specified on mount type %q: %w", spec.Type, errInvalid)
	}
	if err := unsupportedMountFields(spec); err != nil {
		return container.Mount{}, wrap(err)
	}
	// Consistency is a hint for Docker Desktop's file sharing: Docker on
	// Linux accepts any value and ignores it, and so does Berth.
	switch spec.Type {
	case mounttypes.TypeBind:
		if spec.VolumeOptions != nil {
			return container.Mount{}, wrap(fmt.Errorf("field VolumeOptions must not be specified: %w", errInvalid))
		}
		if spec.Source == "" {
			return container.Mount{}, wrap(fmt.Errorf("field Source must not be empty: %w", errInvalid))
		}
		if !path.IsAbs(spec.Source) {
			return container.Mount{}, wrap(fmt.Errorf("invalid mount path: '%s' mount path must be absolute: %w", spec.Source, errInvalid))
		}
		m.Type, m.Source = container.MountBind, filepath.Clean(spec.Source)
		if bo := spec.BindOptions; bo != nil {
			if bo.Propagation != "" && !validPropagation(bo.Propagation) {
				return container.Mount{}, wrap(fmt.Errorf("invalid propagation mode: %s: %w", bo.Propagation, errInvalid))
			}
			m.Propagation = string(bo.Propagation)
			m.NonRecursive = bo.NonRecursive
			m.CreateMountpoint = bo.CreateMountpoint
			if (bo.ReadOnlyNonRecursive || bo.ReadOnlyForceRecursive) && !spec.ReadOnly {
				return container.Mount{}, wrap(fmt.Errorf("option ReadOnlyNonRecursive and ReadOnlyForceRecursive require ReadOnly: %w", errInvalid))
			}
			if bo.ReadOnlyNonRecursive && bo.ReadOnlyForceRecursive {
				return container.Mount{}, wrap(fmt.Errorf("option ReadOnlyNonRecursive and ReadOnlyForceRecursive are mutually exclusive: %w", errInvalid))
			}
			if bo.NonRecursive && bo.ReadOnlyForceRecursive {
				return container.Mount{}, wrap(fmt.Errorf("option ReadOnlyForceRecursive requires a recursive bind (NonRecursive unset): %w", errInvalid))
			}
			m.ReadOnlyNonRecursive = bo.ReadOnlyNonRecursive
			m.ReadOnlyForceRecursive = bo.ReadOnlyForceRecursive
		}
	case mounttypes.TypeVolume:
		if spec.BindOptions != nil {
			return container.Mount{}, wrap(fmt.Errorf("field BindOptions must not be specified: %w", errInvalid))
		}
		m.Type, m.Driver = container.MountVolume, "local"
		if vo := spec.VolumeOptions; vo != nil {
			if vo.NoCopy {
				m.Mode = "nocopy"
			}
			if len(vo.Labels) > 0 {
				m.VolumeLabels = maps.Clone(vo.Labels)
			}
			if dc := vo.DriverConfig; dc != nil && len(dc.Options) > 0 {
				// Checked by the volume store when the mount
				// creates the volume.
				m.VolumeDriverOpts = maps.Clone(dc.Options)
			}
			if vo.Subpath != "" {
				sp, err := subpath(vo.Subpath)
				if err != nil {
					return container.Mount{}, wrap(err)
				}
				if spec.Source == "" {
					return container.Mount{}, wrap(fmt.Errorf("VolumeOptions.Subpath needs a named volume (Source): %w", errInvalid))
				}
				m.Subpath = sp
			}
		}
		if spec.Source == "" {
			m.Anonymous = true
		} else {
			m.VolumeName, m.Source = spec.Source, spec.Source
		}
	case mounttypes.TypeTmpfs:
		if spec.Source != "" {
			return container.Mount{}, wrap(fmt.Errorf("field Source must not be specified: %w", errInvalid))
		}
		if spec.BindOptions != nil {
			return container.Mount{}, wrap(fmt.Errorf("field BindOptions must not be specified: %w", errInvalid))
		}
		if spec.VolumeOptions != nil {
			return container.Mount{}, wrap(fmt.Errorf("field VolumeOptions must not be specified: %w", errInvalid))
		}
		opts, err := apiTmpfsOptions(spec)
		if err != nil {
			return container.Mount{}, wrap(err)
		}
		t, err := tmpfs(dst, opts, img, policy)
		if err != nil {
			return container.Mount{}, err
		}
		m.Type, m.Tmpfs = container.MountTmpfs, t
		m.ReadOnly = opts.ReadOnly()
	default:
		return container.Mount{}, fmt.Errorf("mount type %q is not supported by berth: %w", spec.Type, errInvalid)
	}
	return m, nil
}

func validPropagation(p mounttypes.Propagation) bool {
	for _, q := range mounttypes.Propagations {
		if p == q {
			return true
		}
	}
	return false
}

// unsupportedMountFields refuses the sub-fields of a HostConfig.Mounts
// entry that Berth does not implement, naming them (docs/api-coverage.md
// has a row for each).
func unsupportedMountFields(spec mounttypes.Mount) error {
	var refused []string
	if spec.ClusterOptions != nil {
		refused = append(refused, "Mount.ClusterOptions")
	}
	if spec.ImageOptions != nil {
		refused = append(refused, "Mount.ImageOptions")
	}
	if vo := spec.VolumeOptions; vo != nil {
		if dc := vo.DriverConfig; dc != nil {
			if dc.Name != "" && dc.Name != "local" {
				return fmt.Errorf("Mount.VolumeOptions.DriverConfig.Name %q is not supported by berth (only the local driver exists): %w", dc.Name, errInvalid)
			}
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("%s: not supported by berth: %w", strings.Join(refused, ", "), errInvalid)
	}
	return nil
}

// subpath checks a VolumeOptions.Subpath as Docker does: relative, and not
// leaving the volume by its words. Symbolic links in the volume are for
// the shim, which resolves the path inside the volume at start.
func subpath(p string) (string, error) {
	if path.IsAbs(p) {
		return "", fmt.Errorf("subpath must be a relative path within the volume: %s: %w", p, errInvalid)
	}
	clean := path.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("subpath must be a relative path within the volume: %s: %w", p, errInvalid)
	}
	return clean, nil
}
