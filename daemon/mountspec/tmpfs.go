package mountspec

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	mounttypes "github.com/moby/moby/api/types/mount"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// cliTmpfs resolves one HostConfig.Tmpfs entry (`--tmpfs DST:OPTIONS`).
func cliTmpfs(p, options string, img ImageFS, policy Policy) (container.Mount, error) {
	dst, err := destination(p)
	if err != nil {
		return container.Mount{}, err
	}
	opts, err := tmpfsopt.Parse(options)
	if err != nil {
		return container.Mount{}, fmt.Errorf("tmpfs %s: %w", dst, err)
	}
	t, err := tmpfs(dst, opts, img, policy)
	if err != nil {
		return container.Mount{}, err
	}
	return container.Mount{Type: container.MountTmpfs, Destination: dst, ReadOnly: opts.ReadOnly(), Tmpfs: t}, nil
}

// apiTmpfsOptions builds the options of a `--mount type=tmpfs` entry from
// its typed TmpfsOptions, in Docker's order (ReadOnly, Mode, SizeBytes,
// then Options, the later winning), without writing them as a string.
func apiTmpfsOptions(spec mounttypes.Mount) (tmpfsopt.Options, error) {
	var items []tmpfsopt.Item
	if spec.ReadOnly {
		items = append(items, tmpfsopt.Item{Key: "ro"})
	}
	t := spec.TmpfsOptions
	if t == nil {
		return tmpfsopt.ParseItems(items)
	}
	if t.SizeBytes < 0 {
		return tmpfsopt.Options{}, fmt.Errorf("invalid tmpfs size %d: %w", t.SizeBytes, errInvalid)
	}
	mode := uint32(t.Mode)
	if mode > 0o7777 {
		return tmpfsopt.Options{}, fmt.Errorf("invalid tmpfs mode %o: %w", mode, errInvalid)
	}
	for _, o := range t.Options {
		switch len(o) {
		case 1:
			items = append(items, tmpfsopt.Item{Key: o[0]})
		case 2:
			items = append(items, tmpfsopt.Item{Key: o[0], Value: o[1], HasValue: true})
		default:
			return tmpfsopt.Options{}, fmt.Errorf("invalid option array length: %w", errInvalid)
		}
	}
	opts, err := tmpfsopt.ParseItems(items)
	if err != nil {
		return tmpfsopt.Options{}, err
	}
	if t.SizeBytes > 0 && !opts.HasSize() {
		opts.SetSizeBytes(t.SizeBytes)
	}
	if mode != 0 && opts.Mode == nil {
		opts.Mode = &mode
	}
	return opts, nil
}

// tmpfsDestination refuses the paths a tmpfs cannot go to: the kernel's
// /proc and /sys, which the runtime mounts itself and refuses to cover (a
// create that went through would fail at every start), and /dev, where
// the runtime creates the device nodes only when it mounts /dev itself.
func tmpfsDestination(dst string) error {
	for _, kernel := range []string{"/proc", "/sys"} {
		if dst == kernel || strings.HasPrefix(dst, kernel+"/") {
			return fmt.Errorf("tmpfs on %s is not allowed: the runtime mounts the kernel's %s there: %w", dst, kernel, errInvalid)
		}
	}
	if dst == "/dev" {
		return fmt.Errorf("tmpfs on /dev is not supported by berth: /dev already is a tmpfs that the runtime fills with the container's device nodes; mount a tmpfs below it (such as /dev/shm) instead: %w", errInvalid)
	}
	return nil
}

// tmpfs completes a parsed option set into the one typed value the shim
// mounts: defaults merged, the daemon's size policy applied, kernel
// support checked, user and group names resolved in the image, and the
// root's mode and owner fixed now so that they never change across
// restarts.
func tmpfs(dst string, user tmpfsopt.Options, img ImageFS, policy Policy) (*container.Tmpfs, error) {
	if err := tmpfsDestination(dst); err != nil {
		return nil, err
	}
	for _, k := range user.RequiresKernel() {
		if policy.KernelSupports != nil && !policy.KernelSupports(k) {
			return nil, fmt.Errorf("invalid tmpfs option %q for %s: this kernel's tmpfs does not support it: %w", k, dst, errInvalid)
		}
	}
	opts, err := user.ResolveIDs(img.LookupUser, img.LookupGroup)
	if err != nil {
		return nil, fmt.Errorf("tmpfs %s: %w", dst, err)
	}
	if !opts.HasSize() && policy.DefaultSize > 0 {
		opts.SetSizeBytes(policy.DefaultSize)
	}
	limit := opts.Limit(policy.PageSize)
	if err := policy.checkSize(dst, opts, limit); err != nil {
		return nil, err
	}
	if a, err := img.Attrs(dst, false); err == nil && a.Type&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("tmpfs destination %s is a symbolic link in the image: mount on the path it points to: %w", dst, errInvalid)
	}
	merged := tmpfsopt.Merge(tmpfsopt.DefaultFlags, opts)
	t := &container.Tmpfs{
		Options: merged.String(),
		Mode:    0o1777,
		CopyUp:  policy.CopyUp,
	}
	if !limit.Unlimited && limit.Percent == 0 {
		t.SizeBytes = limit.Bytes
	}
	if merged.CopyUp != nil {
		t.CopyUp = *merged.CopyUp
	}
	if a, err := img.Attrs(dst, true); err == nil && a.Type.IsDir() {
		t.Mode, t.UID, t.GID = a.Perm&0o7777, a.UID, a.GID
	}
	if merged.Mode != nil {
		t.Mode = *merged.Mode
	}
	// ResolveIDs left only numbers, which Parse checked.
	if merged.UID != "" {
		t.UID, _ = strconv.Atoi(merged.UID)
	}
	if merged.GID != "" {
		t.GID, _ = strconv.Atoi(merged.GID)
	}
	t.Flags, t.Propagation = merged.MountFlags()
	if t.Propagation == 0 {
		t.Propagation = tmpfsopt.DefaultPropagation
	}
	data := merged
	mode := t.Mode
	data.Mode, data.UID, data.GID = &mode, strconv.Itoa(t.UID), strconv.Itoa(t.GID)
	t.Data = data.Data()
	return t, nil
}

// checkSize enforces --max-tmpfs-size on the size limit the kernel will
// apply, whatever spelling set it: size= in bytes or with a suffix,
// nr_blocks= in pages, SizeBytes, a percentage, 0 (unlimited) or none.
func (p Policy) checkSize(dst string, opts tmpfsopt.Options, limit tmpfsopt.Limit) error {
	if p.MaxSize <= 0 {
		return nil
	}
	max := p.MaxSizeText
	if max == "" {
		max = strconv.FormatInt(p.MaxSize, 10)
	}
	switch {
	case !opts.HasSize():
		return fmt.Errorf("tmpfs %s has no size limit, but this daemon allows at most %s (--max-tmpfs-size): set size=: %w", dst, max, errInvalid)
	case limit.Unlimited:
		return fmt.Errorf("tmpfs %s: %s means no size limit, but this daemon allows at most %s (--max-tmpfs-size): %w", dst, opts.SizeOption(), max, errInvalid)
	case limit.Percent > 0:
		return fmt.Errorf("tmpfs %s: %s is a share of memory, but this daemon allows at most %s (--max-tmpfs-size): %w", dst, opts.SizeOption(), max, errInvalid)
	case limit.Bytes > p.MaxSize:
		return fmt.Errorf("tmpfs %s: %s is larger than this daemon's limit of %s (--max-tmpfs-size): %w", dst, opts.SizeOption(), max, errInvalid)
	}
	return nil
}

// VolumeTmpfs applies the daemon's size policy to the options of a tmpfs
// volume (`volume create --opt type=tmpfs --opt o=...`), as to any tmpfs:
// the default size when it sets none, and --max-tmpfs-size on the limit
// the kernel will apply.
func (p Policy) VolumeTmpfs(name string, opts tmpfsopt.Options) (tmpfsopt.Options, error) {
	if !opts.HasSize() && p.DefaultSize > 0 {
		opts.SetSizeBytes(p.DefaultSize)
	}
	if err := p.checkSize("volume "+name, opts, opts.Limit(p.PageSize)); err != nil {
		return tmpfsopt.Options{}, err
	}
	return opts, nil
}
