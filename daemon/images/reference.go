package images

import (
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
)

// ParseReference normalizes an image reference the way Docker does:
// "busybox" becomes ("docker.io/library/busybox", "latest"), "foo/bar:1"
// becomes ("docker.io/foo/bar", "1") and a registry host such as
// "localhost:5000/x" is kept. Digest references name no tag and are
// refused here; the store finds them through the images' repo digests.
func ParseReference(ref string) (name, tag string, err error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", "", errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if _, ok := named.(reference.Digested); ok {
		return "", "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid reference format: digest references are not supported: %s", ref))
	}
	tagged, ok := reference.TagNameOnly(named).(reference.Tagged)
	if !ok {
		return "", "", errdefs.ErrInvalidArgument.WithMessage("invalid reference format")
	}
	return named.Name(), tagged.Tag(), nil
}

// FamiliarName returns the short form Docker shows for a normalized reference:
// "docker.io/library/busybox:latest" becomes "busybox:latest". Strings that
// are not references are returned unchanged.
func FamiliarName(fullRef string) string {
	named, err := reference.ParseNormalizedNamed(fullRef)
	if err != nil {
		return fullRef
	}
	return reference.FamiliarString(named)
}

// normalizeRef returns the canonical "name:tag" form used as key in the
// reference index.
func normalizeRef(ref string) (string, error) {
	name, tag, err := ParseReference(ref)
	if err != nil {
		return "", err
	}
	return name + ":" + tag, nil
}

// normalizeDigestRef returns the canonical "name@sha256:..." form of a
// digest reference ("busybox@sha256:..."), and false for anything else.
func normalizeDigestRef(ref string) (string, bool) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", false
	}
	d, ok := named.(reference.Digested)
	if !ok {
		return "", false
	}
	return named.Name() + "@" + d.Digest().String(), true
}
