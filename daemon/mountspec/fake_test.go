package mountspec

import (
	"fmt"
	"io/fs"
	"path"
)

// fakeImage is an image's content in memory: the input Resolve reads, not
// a mock of a component.
type fakeImage struct {
	attrs  map[string]Attrs  // by path, symlinks not followed
	links  map[string]string // symlink path -> absolute target
	users  map[string]int
	groups map[string]int
}

func (f fakeImage) Attrs(p string, follow bool) (Attrs, error) {
	if target, ok := f.links[p]; ok && follow {
		p = path.Clean(target)
	}
	a, ok := f.attrs[p]
	if !ok {
		return Attrs{}, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return a, nil
}

func (f fakeImage) LookupUser(name string) (int, error) {
	if id, ok := f.users[name]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("no user %q in the image's /etc/passwd", name)
}

func (f fakeImage) LookupGroup(name string) (int, error) {
	if id, ok := f.groups[name]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("no group %q in the image's /etc/group", name)
}

// testImage is a small busybox-like image.
var testImage = fakeImage{
	attrs: map[string]Attrs{
		"/run":      {Type: fs.ModeDir, Perm: 0o755},
		"/tmp":      {Type: fs.ModeDir, Perm: 0o1777},
		"/home/app": {Type: fs.ModeDir, Perm: 0o700, UID: 1000, GID: 1000},
		"/etc/file": {Perm: 0o644},
		"/var/run":  {Type: fs.ModeSymlink, Perm: 0o777},
		"/escape":   {Type: fs.ModeSymlink, Perm: 0o777},
	},
	links:  map[string]string{"/var/run": "/run", "/escape": "/../../../host"},
	users:  map[string]int{"app": 1000, "root": 0},
	groups: map[string]int{"app": 1000, "wheel": 10},
}
