package mountspec

import (
	"fmt"
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
		if spec.BindOptions != nil {
			m.Propagation = string(spec.BindOptions.Propagation)
		}
	case mounttypes.TypeVolume:
		if spec.BindOptions != nil {
			return container.Mount{}, wrap(fmt.Errorf("field BindOptions must not be specified: %w", errInvalid))
		}
		m.Type, m.Driver = container.MountVolume, "local"
		if spec.VolumeOptions != nil && spec.VolumeOptions.NoCopy {
			m.Mode = "nocopy"
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
