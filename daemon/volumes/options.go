package volumes

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// Mount is what the local driver mounts on a volume's directory while
// containers use it, computed once from the volume's options (Docker's
// `--opt type=... --opt device=... --opt o=...`).
type Mount struct {
	// Type is "tmpfs" or "none" (a bind mount of Device).
	Type string
	// Device is the mount's source: a tmpfs's name, or the bound host
	// directory.
	Device string
	// Flags are the MS_* flags of the mount (for a bind, applied by a
	// remount after the bind, as mount(8) does).
	Flags uintptr
	// Recursive binds the directory with the mounts below it (o=rbind).
	Recursive bool
	// Data is the tmpfs's data string (size=, mode=, uid=, ...).
	Data string
}

// optionKeys are the options of the local driver, as in Docker.
var optionKeys = []string{"type", "device", "o"}

// Checks are the daemon's own checks of a tmpfs volume's options.
type Checks struct {
	// KernelSupports tells which of the tmpfs options that only newer
	// kernels know this one has (nil: all).
	KernelSupports func(option string) bool
	// Tmpfs applies the daemon's size policy to volume name's parsed
	// options (nil: none).
	Tmpfs func(name string, opts tmpfsopt.Options) (tmpfsopt.Options, error)
}

// ParseOptions validates volume name's local driver options and returns
// what to mount, or nil when there are none (a plain directory). It
// refuses, naming it, every option and file system type that Berth does
// not implement, so that nothing is silently ignored. Like Docker, type
// and device go together, except for a tmpfs, whose device is only a name
// ("tmpfs" when not given). It does no I/O: a bind's device is checked by
// the caller.
func ParseOptions(name string, opts map[string]string, checks Checks) (*Mount, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "size":
			return nil, invalidf("volume option %q (a disk quota) is not supported by berth's local driver: for a size limit use --opt type=tmpfs --opt o=size=...", k)
		case !slices.Contains(optionKeys, k):
			return nil, invalidf("volume option %q is not supported by berth's local driver (it takes type, device and o)", k)
		}
	}
	typ, hasType := opts["type"]
	device, hasDevice := opts["device"]
	o, hasO := opts["o"]
	switch {
	case !hasType && hasDevice:
		return nil, invalidf("missing required option: \"type\"")
	case !hasType && hasO:
		return nil, invalidf("missing required option: \"type\"")
	}
	switch typ {
	case "tmpfs":
		return tmpfsMount(name, device, hasDevice, o, checks)
	case "none":
		if !hasDevice {
			return nil, invalidf("missing required option: \"device\"")
		}
		return bindMount(device, o, hasO)
	case "":
		return nil, invalidf("volume option \"type\" is empty")
	default:
		return nil, invalidf("volume type %q (type=%s) is not supported by berth's local driver: only type=tmpfs and type=none with o=bind are", typ, typ)
	}
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
}

// tmpfsMount validates a tmpfs volume's o= with the parser of --tmpfs.
// As in Docker, the options go to the kernel as given, without --tmpfs's
// default noexec, nosuid and nodev.
func tmpfsMount(name, device string, hasDevice bool, o string, checks Checks) (*Mount, error) {
	if !hasDevice {
		device = "tmpfs"
	}
	if device == "" || strings.ContainsAny(device, " \t\n,") {
		return nil, invalidf("invalid tmpfs device %q: a name without spaces or commas (such as tmpfs)", device)
	}
	opts, err := tmpfsopt.Parse(o)
	if err != nil {
		return nil, fmt.Errorf("volume option o=%s: %w", o, err)
	}
	if err := notForVolume(o, opts); err != nil {
		return nil, err
	}
	for _, k := range opts.RequiresKernel() {
		if checks.KernelSupports != nil && !checks.KernelSupports(k) {
			return nil, invalidf("volume option o=%s: this kernel's tmpfs does not support %q", o, k)
		}
	}
	for _, id := range []struct{ key, value string }{{"uid", opts.UID}, {"gid", opts.GID}} {
		if id.value != "" && (id.value[0] < '0' || id.value[0] > '9') {
			return nil, invalidf("volume option o=%s: %s=%s: a volume has no image to look names up in, give a number", o, id.key, id.value)
		}
	}
	if checks.Tmpfs != nil {
		if opts, err = checks.Tmpfs(name, opts); err != nil {
			return nil, err
		}
	}
	flags, _ := opts.MountFlags()
	return &Mount{Type: "tmpfs", Device: device, Flags: flags, Data: opts.Data()}, nil
}

// notForVolume refuses the words of o that make sense on a container's
// tmpfs but not on a volume: propagation (a property of each container's
// mount of the volume) and copy-up (a volume has no image directory).
func notForVolume(o string, opts tmpfsopt.Options) error {
	for _, w := range opts.Flags {
		if tmpfsopt.IsPropagationWord(w) {
			return invalidf("volume option o=%s: %q is not supported for a volume: set the propagation of each container's mount instead (bind-propagation)", o, w)
		}
	}
	if opts.CopyUp != nil {
		return invalidf("volume option o=%s: tmpcopyup and notmpcopyup are not supported for a volume: it has no image directory to copy", o)
	}
	return nil
}

// bindMount validates a type=none volume: o must say bind or rbind, and
// may add mount flag words (ro, nosuid, ...). device must be an absolute
// path; the caller checks that it exists.
func bindMount(device, o string, hasO bool) (*Mount, error) {
	if !filepath.IsAbs(device) {
		return nil, invalidf("volume option device=%s: a bind volume's device must be an absolute path", device)
	}
	if !hasO {
		return nil, invalidf("volume type \"none\" needs o=bind or o=rbind")
	}
	m := &Mount{Type: "none", Device: filepath.Clean(device)}
	bind := false
	var rest []string
	for _, w := range strings.Split(o, ",") {
		switch w {
		case "bind":
			bind, m.Recursive = true, false
		case "rbind":
			bind, m.Recursive = true, true
		default:
			rest = append(rest, w)
		}
	}
	if !bind {
		return nil, invalidf("volume option o=%s: type \"none\" needs bind or rbind in o (berth mounts no other file systems)", o)
	}
	opts, err := tmpfsopt.ParseList(rest)
	if err != nil {
		return nil, fmt.Errorf("volume option o=%s: %w", o, err)
	}
	if err := notForVolume(o, opts); err != nil {
		return nil, err
	}
	if data := opts.Data(); data != "" {
		return nil, invalidf("volume option o=%s: %s is not an option of a bind mount", o, data)
	}
	m.Flags, _ = opts.MountFlags()
	return m, nil
}

// bindFlags are the flags of the bind itself.
func (m *Mount) bindFlags() uintptr {
	f := uintptr(unix.MS_BIND)
	if m.Recursive {
		f |= unix.MS_REC
	}
	return f
}
