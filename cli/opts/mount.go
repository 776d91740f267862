package opts

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/mount"
)

// ParseMountSpec parses one --mount value, a CSV list of key=value fields as
// Docker's CLI accepts them, into an API mount. Keys are case-insensitive and
// the type defaults to "volume", as in Docker. Besides Docker's keys it
// accepts Berth's tmpfs keys tmpfs-uid, tmpfs-gid, tmpfs-exec[=bool] and
// tmpfs-copyup[=bool], which become TmpfsOptions.Options entries.
func ParseMountSpec(value string) (mount.Mount, error) {
	r := csv.NewReader(strings.NewReader(value))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		return mount.Mount{}, invalidf("%s", err.Error())
	}

	m := mount.Mount{Type: mount.TypeVolume}
	var tmpfsOpts [][]string
	volumeOptions := func() *mount.VolumeOptions {
		if m.VolumeOptions == nil {
			m.VolumeOptions = &mount.VolumeOptions{}
		}
		return m.VolumeOptions
	}
	volumeDriver := func() *mount.Driver {
		v := volumeOptions()
		if v.DriverConfig == nil {
			v.DriverConfig = &mount.Driver{}
		}
		return v.DriverConfig
	}
	bindOptions := func() *mount.BindOptions {
		if m.BindOptions == nil {
			m.BindOptions = &mount.BindOptions{}
		}
		return m.BindOptions
	}
	tmpfsOptions := func() *mount.TmpfsOptions {
		if m.TmpfsOptions == nil {
			m.TmpfsOptions = &mount.TmpfsOptions{}
		}
		return m.TmpfsOptions
	}
	// setTmpfsOpt records a TmpfsOptions.Options entry; a later key of the
	// same group replaces the earlier one so the list never contradicts itself.
	setTmpfsOpt := func(group string, opt ...string) {
		tmpfsOptions()
		for i, o := range tmpfsOpts {
			if tmpfsOptionGroup(o[0]) == group {
				tmpfsOpts[i] = opt
				return
			}
		}
		tmpfsOpts = append(tmpfsOpts, opt)
	}
	parseBool := func(key, val string) (bool, error) {
		b, err := strconv.ParseBool(val)
		if err != nil {
			return false, invalidf("invalid value for %s: %s", key, val)
		}
		return b, nil
	}

	for _, field := range fields {
		key, val, hasValue := strings.Cut(field, "=")
		key = strings.ToLower(key)
		if !hasValue {
			switch key {
			case "readonly", "ro", "volume-nocopy", "bind-nonrecursive", "bind-create-mountpoint", "tmpfs-exec", "tmpfs-copyup":
				// A bare boolean key means true.
				val = "true"
			default:
				return mount.Mount{}, invalidf("invalid field '%s' must be a key=value pair", field)
			}
		}

		switch key {
		case "type":
			m.Type = mount.Type(strings.ToLower(val))
		case "source", "src":
			m.Source = val
			if val == "." || strings.HasPrefix(val, "./") {
				if abs, err := filepath.Abs(val); err == nil {
					m.Source = abs
				}
			}
		case "target", "dst", "destination":
			m.Target = val
		case "readonly", "ro":
			if m.ReadOnly, err = parseBool(key, val); err != nil {
				return mount.Mount{}, err
			}
		case "consistency":
			m.Consistency = mount.Consistency(strings.ToLower(val))
		case "bind-propagation":
			bindOptions().Propagation = mount.Propagation(strings.ToLower(val))
		case "bind-nonrecursive":
			if bindOptions().NonRecursive, err = parseBool(key, val); err != nil {
				return mount.Mount{}, err
			}
		case "bind-create-mountpoint":
			if bindOptions().CreateMountpoint, err = parseBool(key, val); err != nil {
				return mount.Mount{}, err
			}
		case "bind-recursive":
			b := bindOptions()
			switch val {
			case "enabled":
			case "disabled":
				b.NonRecursive = true
			case "writable":
				b.ReadOnlyNonRecursive = true
			case "readonly":
				b.ReadOnlyForceRecursive = true
			default:
				return mount.Mount{}, invalidf("invalid value for %s: %s (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")", key, val)
			}
		case "volume-nocopy":
			if volumeOptions().NoCopy, err = parseBool(key, val); err != nil {
				return mount.Mount{}, err
			}
		case "volume-label":
			v := volumeOptions()
			if v.Labels == nil {
				v.Labels = map[string]string{}
			}
			setKeyValue(v.Labels, val)
		case "volume-driver":
			volumeDriver().Name = val
		case "volume-opt":
			d := volumeDriver()
			if d.Options == nil {
				d.Options = map[string]string{}
			}
			setKeyValue(d.Options, val)
		case "volume-subpath":
			volumeOptions().Subpath = val
		case "image-subpath":
			if m.ImageOptions == nil {
				m.ImageOptions = &mount.ImageOptions{}
			}
			m.ImageOptions.Subpath = val
		case "tmpfs-size":
			size, err := units.RAMInBytes(val)
			if err != nil || size < 0 {
				return mount.Mount{}, invalidf("invalid value for %s: %s", key, val)
			}
			tmpfsOptions().SizeBytes = size
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return mount.Mount{}, invalidf("invalid value for %s: %s", key, val)
			}
			tmpfsOptions().Mode = os.FileMode(mode)
		case "tmpfs-uid", "tmpfs-gid":
			if val == "" || strings.ContainsAny(val, ",=") {
				return mount.Mount{}, invalidf("invalid value for %s: %s", key, val)
			}
			name := strings.TrimPrefix(key, "tmpfs-")
			setTmpfsOpt(name, name, val)
		case "tmpfs-exec":
			b, err := parseBool(key, val)
			if err != nil {
				return mount.Mount{}, err
			}
			setTmpfsOpt("exec", boolOption(b, "exec", "noexec"))
		case "tmpfs-copyup":
			b, err := parseBool(key, val)
			if err != nil {
				return mount.Mount{}, err
			}
			setTmpfsOpt("tmpcopyup", boolOption(b, "tmpcopyup", "notmpcopyup"))
		default:
			return mount.Mount{}, invalidf("unexpected key '%s' in '%s'", key, field)
		}
	}

	if m.Type == "" {
		return mount.Mount{}, invalidf("type is required")
	}
	if m.Target == "" {
		return mount.Mount{}, invalidf("target is required")
	}
	if m.VolumeOptions != nil && m.Type != mount.TypeVolume {
		return mount.Mount{}, invalidf("cannot mix 'volume-*' options with mount type '%s'", m.Type)
	}
	if m.ImageOptions != nil && m.Type != mount.TypeImage {
		return mount.Mount{}, invalidf("cannot mix 'image-*' options with mount type '%s'", m.Type)
	}
	if m.BindOptions != nil && m.Type != mount.TypeBind {
		return mount.Mount{}, invalidf("cannot mix 'bind-*' options with mount type '%s'", m.Type)
	}
	if m.TmpfsOptions != nil && m.Type != mount.TypeTmpfs {
		return mount.Mount{}, invalidf("cannot mix 'tmpfs-*' options with mount type '%s'", m.Type)
	}
	if len(tmpfsOpts) > 0 {
		m.TmpfsOptions.Options = tmpfsOpts
	}
	return m, nil
}

// tmpfsOptionGroup names the group an Options entry belongs to: exec/noexec
// and tmpcopyup/notmpcopyup each form one group, uid and gid their own.
func tmpfsOptionGroup(opt string) string {
	switch opt {
	case "exec", "noexec":
		return "exec"
	case "tmpcopyup", "notmpcopyup":
		return "tmpcopyup"
	}
	return opt
}

func boolOption(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// setKeyValue stores "k=v" (or "k" with an empty value) in m; an empty key is
// ignored, as Docker does.
func setKeyValue(m map[string]string, kv string) {
	k, v, _ := strings.Cut(kv, "=")
	if k != "" {
		m[k] = v
	}
}

// MountOpt is the repeatable --mount flag.
type MountOpt struct {
	values []mount.Mount
}

// Set implements pflag.Value.
func (o *MountOpt) Set(value string) error {
	m, err := ParseMountSpec(value)
	if err != nil {
		return err
	}
	o.values = append(o.values, m)
	return nil
}

// Type implements pflag.Value.
func (o *MountOpt) Type() string { return "mount" }

// String implements pflag.Value.
func (o *MountOpt) String() string {
	parts := make([]string, 0, len(o.values))
	for _, m := range o.values {
		parts = append(parts, string(m.Type)+" "+m.Source+" "+m.Target)
	}
	return strings.Join(parts, ", ")
}

// Value returns the parsed mounts in flag order.
func (o *MountOpt) Value() []mount.Mount { return o.values }
