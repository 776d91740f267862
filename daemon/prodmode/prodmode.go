// Package prodmode decides a new container's production mode: whether its
// root filesystem is read-only and which tmpfs mounts it gets by default,
// from the image's and the container's io.berth.* labels and the daemon's
// defaults. It is pure; the tmpfs it proposes are resolved (validated,
// sized, copied up) by daemon/mountspec like any --tmpfs.
package prodmode

import (
	"fmt"
	"path"
	"strings"

	"github.com/containerd/errdefs"
)

// The labels an image (or a container, overriding the image) carries.
const (
	LabelReadOnly      = "io.berth.read-only"
	LabelTmpfs         = "io.berth.tmpfs"
	LabelReadOnlyTmpfs = "io.berth.read-only-tmpfs"
)

// FromRequest is the ReadOnlyFrom of a container whose request said
// --read-only: the production mode decided nothing.
const FromRequest = "--read-only"

// AutoTmpfs are the directories a read-only container gets a fresh tmpfs
// on with --read-only-tmpfs, as Podman's read_only_tmpfs does.
var AutoTmpfs = []string{"/run", "/tmp", "/var/tmp"}

// autoTmpfsOptions copy the image's content up whatever the daemon's
// copy-up default: the directories must keep what the image put there.
const autoTmpfsOptions = "tmpcopyup"

// Defaults are the daemon's settings (--read-only-default,
// --read-only-tmpfs).
type Defaults struct {
	ReadOnly      bool
	ReadOnlyTmpfs bool
}

// Tmpfs is a tmpfs the production mode proposes.
type Tmpfs struct {
	Destination string
	Options     string // as --tmpfs takes them; "" for none
	// Origin says where it comes from, e.g. "image label io.berth.tmpfs".
	Origin string
}

// Decision is the production mode of a new container.
type Decision struct {
	ReadOnly bool
	// ReadOnlyFrom says what decided ReadOnly ("--read-only", "image label
	// io.berth.read-only", "daemon --read-only-default", ...); "" when
	// nothing did (a writable container by default).
	ReadOnlyFrom string
	// Tmpfs are the tmpfs to add where the request mounts nothing itself,
	// label entries first, then the automatic ones.
	Tmpfs []Tmpfs
}

// Decide applies the labels and defaults. requestReadOnly is the request's
// HostConfig.ReadonlyRootfs: an explicit --read-only always wins, since a
// request cannot tell "false" from unset. A container label overrides the
// image's label, which overrides the daemon's default. Bad label values
// are errdefs.ErrInvalidArgument naming the label.
func Decide(imageLabels, containerLabels map[string]string, requestReadOnly bool, d Defaults) (Decision, error) {
	var dec Decision
	ro, from, err := boolSetting(LabelReadOnly, imageLabels, containerLabels, d.ReadOnly, "daemon --read-only-default")
	if err != nil {
		return Decision{}, err
	}
	dec.ReadOnly, dec.ReadOnlyFrom = ro, from
	if requestReadOnly {
		dec.ReadOnly, dec.ReadOnlyFrom = true, FromRequest
	}
	seen := map[string]bool{}
	if v, origin, ok := lookup(LabelTmpfs, imageLabels, containerLabels); ok {
		entries, err := ParseTmpfsLabel(v)
		if err != nil {
			return Decision{}, fmt.Errorf("%s: %w", origin, err)
		}
		for _, e := range entries {
			e.Origin = origin
			seen[e.Destination] = true
			dec.Tmpfs = append(dec.Tmpfs, e)
		}
	}
	auto, autoFrom, err := boolSetting(LabelReadOnlyTmpfs, imageLabels, containerLabels, d.ReadOnlyTmpfs, "daemon --read-only-tmpfs")
	if err != nil {
		return Decision{}, err
	}
	if auto && dec.ReadOnly {
		for _, p := range AutoTmpfs {
			if !seen[p] {
				dec.Tmpfs = append(dec.Tmpfs, Tmpfs{Destination: p, Options: autoTmpfsOptions, Origin: autoFrom})
			}
		}
	}
	return dec, nil
}

// lookup finds a label, the container's first, and says where it was.
func lookup(key string, imageLabels, containerLabels map[string]string) (value, origin string, ok bool) {
	if v, ok := containerLabels[key]; ok {
		return v, "container label " + key, true
	}
	if v, ok := imageLabels[key]; ok {
		return v, "image label " + key, true
	}
	return "", "", false
}

// boolSetting reads a true/false label, falling back to the daemon's
// default; from is "" for an unset default that is false.
func boolSetting(key string, imageLabels, containerLabels map[string]string, def bool, defFrom string) (value bool, from string, err error) {
	v, origin, ok := lookup(key, imageLabels, containerLabels)
	if !ok {
		if def {
			return true, defFrom, nil
		}
		return false, "", nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, origin, nil
	case "false", "0", "no", "off":
		return false, origin, nil
	}
	return false, "", fmt.Errorf("%s: invalid value %q: want true or false: %w", origin, v, errdefs.ErrInvalidArgument)
}

// ParseTmpfsLabel splits an io.berth.tmpfs value: whitespace-separated
// entries in --tmpfs syntax (PATH[:OPTIONS]). Paths must be absolute and
// appear once; the options are checked later with every other tmpfs.
func ParseTmpfsLabel(v string) ([]Tmpfs, error) {
	var out []Tmpfs
	seen := map[string]bool{}
	for _, f := range strings.Fields(v) {
		p, opts, _ := strings.Cut(f, ":")
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("invalid tmpfs %q: the path must be absolute: %w", f, errdefs.ErrInvalidArgument)
		}
		p = path.Clean(p)
		if p == "/" {
			return nil, fmt.Errorf("invalid tmpfs %q: destination can't be '/': %w", f, errdefs.ErrInvalidArgument)
		}
		if seen[p] {
			return nil, fmt.Errorf("tmpfs %s given twice: %w", p, errdefs.ErrInvalidArgument)
		}
		seen[p] = true
		out = append(out, Tmpfs{Destination: p, Options: opts})
	}
	return out, nil
}
