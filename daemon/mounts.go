package daemon

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	containertypes "github.com/moby/moby/api/types/container"
	mounttypes "github.com/moby/moby/api/types/mount"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// validateHostConfig checks the settings that are not mounts.
func (d *Daemon) validateHostConfig(hc *containertypes.HostConfig) ([]string, error) {
	var warnings []string
	switch mode := string(hc.NetworkMode); {
	case mode == "" || mode == "default" || mode == "bridge":
		warnings = append(warnings, "berth has no bridge networking yet: the container gets its own network namespace with loopback only")
	case mode == "none" || mode == "host":
	case d.userNetwork(mode):
		warnings = append(warnings, "berth has no bridging yet: containers of network "+mode+" each get their own network namespace with loopback only")
	default:
		return nil, fmt.Errorf("network mode %q is not supported by berth (use none, host or bridge): %w", mode, errInvalid)
	}
	if hc.ShmSize < 0 {
		return nil, fmt.Errorf("SHM size can not be less than 0: %w", errInvalid)
	}
	switch hc.IpcMode {
	case "", "private", "shareable", "host", "none":
	default:
		return nil, fmt.Errorf("ipc mode %q is not supported by berth: %w", hc.IpcMode, errInvalid)
	}
	switch hc.PidMode {
	case "", "host":
	default:
		return nil, fmt.Errorf("pid mode %q is not supported by berth: %w", hc.PidMode, errInvalid)
	}
	switch rp := hc.RestartPolicy; rp.Name {
	case "", containertypes.RestartPolicyDisabled, containertypes.RestartPolicyAlways, containertypes.RestartPolicyUnlessStopped:
		if rp.MaximumRetryCount != 0 {
			return nil, fmt.Errorf("invalid restart policy: maximum retry count can only be used with 'on-failure': %w", errInvalid)
		}
	case containertypes.RestartPolicyOnFailure:
		if rp.MaximumRetryCount < 0 {
			return nil, fmt.Errorf("invalid restart policy: maximum retry count cannot be negative: %w", errInvalid)
		}
	default:
		return nil, fmt.Errorf("invalid restart policy: unknown policy '%s'; use one of 'no', 'always', 'on-failure', or 'unless-stopped': %w", rp.Name, errInvalid)
	}
	if hc.AutoRemove && hc.RestartPolicy.Name != "" && hc.RestartPolicy.Name != "no" {
		return nil, fmt.Errorf("can't create 'AutoRemove' container with restart policy: %w", errInvalid)
	}
	return warnings, nil
}

// destination checks and cleans a mount destination with Docker's messages.
func destination(p string) (string, error) {
	if p == "" || !path.IsAbs(p) {
		return "", fmt.Errorf("invalid mount path: '%s' mount path must be absolute: %w", p, errInvalid)
	}
	clean := path.Clean(p)
	if clean == "/" {
		return "", fmt.Errorf("invalid specification: destination can't be '/': %w", errInvalid)
	}
	return clean, nil
}

// resolveMounts turns Binds, Mounts, Tmpfs and the image's volumes into
// typed mounts, refusing any duplicate destination.
func (d *Daemon) resolveMounts(cfg *containertypes.Config, hc *containertypes.HostConfig, fsys imageFS) ([]container.Mount, error) {
	var out []container.Mount
	seen := map[string]bool{}
	add := func(m container.Mount) error {
		if seen[m.Destination] {
			return fmt.Errorf("Duplicate mount point: %s: %w", m.Destination, errInvalid)
		}
		seen[m.Destination] = true
		out = append(out, m)
		return nil
	}
	for _, b := range hc.Binds {
		m, err := parseBind(b)
		if err != nil {
			return nil, err
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, spec := range hc.Mounts {
		m, err := d.apiMount(spec, fsys)
		if err != nil {
			return nil, err
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	dests := make([]string, 0, len(hc.Tmpfs))
	for p := range hc.Tmpfs {
		dests = append(dests, p)
	}
	sort.Strings(dests)
	for _, p := range dests {
		dst, err := destination(p)
		if err != nil {
			return nil, err
		}
		opts, err := tmpfsopt.Parse(hc.Tmpfs[p])
		if err != nil {
			return nil, fmt.Errorf("tmpfs %s: %w", dst, err)
		}
		t, err := d.tmpfs(dst, opts, fsys)
		if err != nil {
			return nil, err
		}
		if err := add(container.Mount{Type: container.MountTmpfs, Destination: dst, ReadOnly: opts.ReadOnly(), Tmpfs: t}); err != nil {
			return nil, err
		}
	}
	// Image and anonymous volumes, unless a mount already covers the path
	// (a tmpfs replaces the volume, as in Docker).
	vols := make([]string, 0, len(cfg.Volumes))
	for v := range cfg.Volumes {
		vols = append(vols, v)
	}
	sort.Strings(vols)
	for _, v := range vols {
		dst, err := destination(v)
		if err != nil {
			return nil, err
		}
		if seen[dst] {
			continue
		}
		seen[dst] = true
		out = append(out, container.Mount{Type: container.MountVolume, Destination: dst, Anonymous: true, Driver: "local"})
	}
	return out, nil
}

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
		switch o {
		case "", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated":
		case "ro":
			m.ReadOnly = true
		case "private", "rprivate", "shared", "rshared", "slave", "rslave":
			m.Propagation = o
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
func (d *Daemon) apiMount(spec mounttypes.Mount, fsys imageFS) (container.Mount, error) {
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
		if _, err := os.Stat(spec.Source); err != nil {
			return container.Mount{}, wrap(fmt.Errorf("bind source path does not exist: %s: %w", spec.Source, errInvalid))
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
		items, err := tmpfsItems(spec)
		if err != nil {
			return container.Mount{}, wrap(err)
		}
		opts, err := tmpfsopt.ParseList(items)
		if err != nil {
			return container.Mount{}, wrap(err)
		}
		t, err := d.tmpfs(dst, opts, fsys)
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

// tmpfsItems converts TmpfsOptions to option words, as the CLI would
// write them.
func tmpfsItems(spec mounttypes.Mount) ([]string, error) {
	var items []string
	if spec.ReadOnly {
		items = append(items, "ro")
	}
	t := spec.TmpfsOptions
	if t == nil {
		return items, nil
	}
	if t.SizeBytes < 0 {
		return nil, fmt.Errorf("invalid tmpfs size %d: %w", t.SizeBytes, errInvalid)
	}
	if t.SizeBytes > 0 {
		items = append(items, "size="+strconv.FormatInt(t.SizeBytes, 10))
	}
	if mode := uint32(t.Mode); mode != 0 {
		if mode > 0o7777 {
			return nil, fmt.Errorf("invalid tmpfs mode %o: %w", mode, errInvalid)
		}
		items = append(items, "mode="+strconv.FormatUint(uint64(mode), 8))
	}
	for _, o := range t.Options {
		switch len(o) {
		case 1:
			items = append(items, o[0])
		case 2:
			items = append(items, o[0]+"="+o[1])
		default:
			return nil, fmt.Errorf("invalid option array length: %w", errInvalid)
		}
	}
	return items, nil
}

// tmpfs completes a parsed option set into the mount the shim performs:
// defaults merged, daemon size policy applied, kernel support checked,
// user and group names resolved in the image, and the root's mode and owner
// fixed now so they never change across restarts.
func (d *Daemon) tmpfs(dst string, user tmpfsopt.Options, fsys imageFS) (*container.Tmpfs, error) {
	for _, k := range user.RequiresKernel() {
		if !tmpfsopt.KernelSupports(k) {
			return nil, fmt.Errorf("invalid tmpfs option %q for %s: this kernel's tmpfs does not support it: %w", k, dst, errInvalid)
		}
	}
	opts, err := user.ResolveIDs(fsys.lookupUID, fsys.lookupGID)
	if err != nil {
		return nil, fmt.Errorf("tmpfs %s: %w", dst, err)
	}
	if opts.Size == "" && d.cfg.DefaultTmpfsSize != "" {
		n, _ := units.RAMInBytes(d.cfg.DefaultTmpfsSize)
		opts.Size, opts.SizeBytes = strconv.FormatInt(n, 10), n
	}
	if d.cfg.MaxTmpfsSize != "" {
		limit, _ := units.RAMInBytes(d.cfg.MaxTmpfsSize)
		switch {
		case opts.Size == "":
			return nil, fmt.Errorf("tmpfs %s has no size limit, but this daemon allows at most %s (--max-tmpfs-size): set size=: %w", dst, d.cfg.MaxTmpfsSize, errInvalid)
		case opts.SizePercent > 0:
			return nil, fmt.Errorf("tmpfs %s: size=%s is a share of memory, but this daemon allows at most %s (--max-tmpfs-size): %w", dst, opts.Size, d.cfg.MaxTmpfsSize, errInvalid)
		case opts.SizeBytes > limit:
			return nil, fmt.Errorf("tmpfs %s: size=%s is larger than this daemon's limit of %s (--max-tmpfs-size): %w", dst, opts.Size, d.cfg.MaxTmpfsSize, errInvalid)
		}
	}
	merged := tmpfsopt.Merge(tmpfsopt.DefaultFlags, opts)
	if e, err := fsys.lookup(dst, false); err == nil && e.Info.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("tmpfs destination %s is a symbolic link in the image: mount on the path it points to: %w", dst, errInvalid)
	}
	t := &container.Tmpfs{
		Options:   merged.String(),
		Flags:     merged.Flags,
		SizeBytes: merged.SizeBytes,
		Mode:      0o1777,
		CopyUp:    d.cfg.TmpfsCopyUp,
	}
	if merged.CopyUp != nil {
		t.CopyUp = *merged.CopyUp
	}
	if mode, uid, gid, ok := fsys.dirAttrs(dst); ok {
		t.Mode, t.UID, t.GID = mode, uid, gid
	}
	if merged.Mode != nil {
		t.Mode = *merged.Mode
	}
	if merged.UID != "" {
		t.UID, _ = strconv.Atoi(merged.UID)
	}
	if merged.GID != "" {
		t.GID, _ = strconv.Atoi(merged.GID)
	}
	data := merged
	data.Mode, data.UID, data.GID = nil, "", ""
	t.Data = data.Data()
	return t, nil
}
