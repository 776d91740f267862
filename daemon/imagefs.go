package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"

	"github.com/moby/sys/user"

	"github.com/berth-project/berth/daemon/mountspec"
	"github.com/berth-project/berth/pkg/unionfs"
)

// imageFS answers questions about an image's content from its unpacked
// layers, without mounting anything.
type imageFS struct {
	layers []string // top first
}

func (f imageFS) lookup(p string, follow bool) (unionfs.Entry, error) {
	return unionfs.Lookup(f.layers, p, follow)
}

func (f imageFS) passwd() []user.User {
	data, err := unionfs.ReadFile(f.layers, "/etc/passwd")
	if err != nil {
		return nil
	}
	users, _ := user.ParsePasswd(bytes.NewReader(data))
	return users
}

func (f imageFS) groups() []user.Group {
	data, err := unionfs.ReadFile(f.layers, "/etc/group")
	if err != nil {
		return nil
	}
	groups, _ := user.ParseGroup(bytes.NewReader(data))
	return groups
}

// execUser resolves a Docker user spec (name|uid[:group|gid]) in the image.
func (f imageFS) execUser(spec string) (*user.ExecUser, error) {
	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	passwd, _ := unionfs.ReadFile(f.layers, "/etc/passwd")
	group, _ := unionfs.ReadFile(f.layers, "/etc/group")
	eu, err := user.GetExecUser(spec, defaults, bytes.NewReader(passwd), bytes.NewReader(group))
	if err != nil {
		return nil, fmt.Errorf("unable to find user %s: %w: %w", spec, err, errInvalid)
	}
	return eu, nil
}

// LookupUser resolves a user name in the image's /etc/passwd.
func (f imageFS) LookupUser(name string) (int, error) {
	for _, u := range f.passwd() {
		if u.Name == name {
			return u.Uid, nil
		}
	}
	return 0, fmt.Errorf("no user %q in the image's /etc/passwd", name)
}

// LookupGroup resolves a group name in the image's /etc/group.
func (f imageFS) LookupGroup(name string) (int, error) {
	for _, g := range f.groups() {
		if g.Name == name {
			return g.Gid, nil
		}
	}
	return 0, fmt.Errorf("no group %q in the image's /etc/group", name)
}

// Attrs returns the type, mode and owner of p in the image (see
// mountspec.ImageFS).
func (f imageFS) Attrs(p string, follow bool) (mountspec.Attrs, error) {
	e, err := f.lookup(p, follow)
	if err != nil {
		return mountspec.Attrs{}, err
	}
	st, ok := e.Info.Sys().(*syscall.Stat_t)
	if !ok {
		return mountspec.Attrs{}, fmt.Errorf("%s in the image: no owner information", p)
	}
	return mountspec.Attrs{Type: e.Info.Mode().Type(), Perm: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid)}, nil
}

// mountpoints creates, in the container's mount point layer, what the
// mounts need and the image lacks: directories (and files for file
// mounts), parents created with the attributes the image gives them so the
// layer never changes how the image looks. A path that crosses a symlink is
// created where the symlink leads, inside the image.
type mountpoints struct {
	img   imageFS
	layer string
}

func (m mountpoints) ensure(p string, file bool) error {
	p = path.Clean("/" + p)
	if p == "/" {
		return nil
	}
	if _, err := m.img.lookup(p, true); err == nil {
		return nil // exists in the image (or where its symlinks lead)
	}
	if err := m.refuseDanglingLink(p); err != nil {
		return err
	}
	parent, err := m.ensureDir(path.Dir(p))
	if err != nil {
		return err
	}
	host := filepath.Join(m.layer, parent, path.Base(p))
	if _, err := os.Lstat(host); err == nil {
		return nil
	}
	if file {
		f, err := os.OpenFile(host, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		return f.Close()
	}
	return os.Mkdir(host, 0o755)
}

// ensureDir makes directory p exist in the layer and returns its resolved
// path (symlinks in the image followed).
func (m mountpoints) ensureDir(p string) (string, error) {
	if p == "/" {
		return "/", nil
	}
	if e, err := m.img.lookup(p, true); err == nil {
		if !e.Info.IsDir() {
			return "", fmt.Errorf("%s is not a directory in the image: %w", p, errInvalid)
		}
		// Recreate it in the layer with the image's attributes, so that
		// children can be created below it.
		resolved := e.Path
		if err := m.copyDirChain(resolved); err != nil {
			return "", err
		}
		return resolved, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := m.refuseDanglingLink(p); err != nil {
		return "", err
	}
	parent, err := m.ensureDir(path.Dir(p))
	if err != nil {
		return "", err
	}
	resolved := path.Join(parent, path.Base(p))
	host := filepath.Join(m.layer, resolved)
	if err := os.Mkdir(host, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	return resolved, nil
}

// refuseDanglingLink refuses a mount point path that is a symbolic link in
// the image whose target does not exist: creating the path in the layer
// would hide the link instead of resolving it, and resolving it here could
// only guess where the runtime would create it. (A link to an existing
// path is followed inside the image by lookup.)
func (m mountpoints) refuseDanglingLink(p string) error {
	if e, err := m.img.lookup(p, false); err == nil && e.Info.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link in the image to a path that does not exist: %w", p, errInvalid)
	}
	return nil
}

// copyDirChain creates each directory of p (already resolved, existing in
// the image) in the layer with the image's mode, owner and times.
func (m mountpoints) copyDirChain(p string) error {
	cur := "/"
	for _, part := range splitPath(p) {
		cur = path.Join(cur, part)
		host := filepath.Join(m.layer, cur)
		if _, err := os.Lstat(host); err == nil {
			continue
		}
		e, err := m.img.lookup(cur, false)
		if err != nil {
			return err
		}
		st := e.Info.Sys().(*syscall.Stat_t)
		if err := os.Mkdir(host, 0o700); err != nil {
			return err
		}
		if err := os.Lchown(host, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
		if err := syscall.Chmod(host, st.Mode&0o7777); err != nil {
			return err
		}
		_ = os.Chtimes(host, e.Info.ModTime(), e.Info.ModTime())
	}
	return nil
}

func splitPath(p string) []string {
	var out []string
	for _, part := range bytes.Split([]byte(path.Clean(p)), []byte("/")) {
		if len(part) > 0 {
			out = append(out, string(part))
		}
	}
	return out
}
