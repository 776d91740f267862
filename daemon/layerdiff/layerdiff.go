// Package layerdiff lists what a container's writable overlay layer
// changed over its image (docker diff): entries added, changed, or deleted
// by an overlay whiteout.
package layerdiff

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"

	containertypes "github.com/moby/moby/api/types/container"
)

// Entry is one entry of an upper directory, by its path from the root of
// the container ("/etc/passwd").
type Entry struct {
	Path string
	// Whiteout marks an overlay whiteout (a 0/0 character device): the
	// entry of that name in a lower layer is deleted.
	Whiteout bool
}

// Changes turns the entries of an upper directory into Docker's change
// list, sorted by path: a whiteout is a deletion, an entry a lower layer
// has is a change (a directory that merely holds a change is one too, as
// in Docker), any other an addition. inLower reports whether a lower
// layer has a path.
func Changes(entries []Entry, inLower func(string) bool) []containertypes.FilesystemChange {
	out := make([]containertypes.FilesystemChange, 0, len(entries))
	for _, e := range entries {
		p := path.Clean("/" + e.Path)
		if p == "/" {
			continue
		}
		kind := containertypes.ChangeAdd
		switch {
		case e.Whiteout:
			kind = containertypes.ChangeDelete
		case inLower(p):
			kind = containertypes.ChangeModify
		}
		out = append(out, containertypes.FilesystemChange{Path: p, Kind: kind})
	}
	slices.SortFunc(out, func(a, b containertypes.FilesystemChange) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Walk lists the entries of the upper directory dir. The walk goes
// through an os.Root: a running container may swap a directory for a
// symlink meanwhile, and nothing outside dir is ever read.
func Walk(dir string) ([]Entry, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var out []Entry
	var walk func(rel string) error
	walk = func(rel string) error {
		f, err := root.Open(rel)
		if err != nil {
			return err
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			return err
		}
		slices.Sort(names)
		for _, name := range names {
			p := path.Join(rel, name)
			fi, err := root.Lstat(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return err
			}
			out = append(out, Entry{Path: "/" + p, Whiteout: isWhiteout(fi)})
			if fi.IsDir() {
				if err := walk(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
		return nil
	}
	if err := walk("."); err != nil {
		return nil, err
	}
	return out, nil
}

func isWhiteout(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Rdev == 0
}

// InLower returns a function that reports whether any of the layer
// directories has a path; each layer is read through an os.Root, so an
// image's symlinks never lead out of it.
func InLower(layers []string) (func(string) bool, func()) {
	var roots []*os.Root
	for _, l := range layers {
		if r, err := os.OpenRoot(l); err == nil {
			roots = append(roots, r)
		}
	}
	closeAll := func() {
		for _, r := range roots {
			r.Close()
		}
	}
	return func(p string) bool {
		rel := strings.TrimPrefix(path.Clean("/"+p), "/")
		for _, r := range roots {
			if _, err := r.Lstat(rel); err == nil {
				return true
			}
		}
		return false
	}, closeAll
}

// Size sums the sizes of the regular files and symlinks under dir,
// through an os.Root like Walk. A directory that does not exist is empty.
func Size(dir string) int64 {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0
	}
	defer root.Close()
	var size int64
	_ = fs.WalkDir(root.FS(), ".", func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // gone meanwhile or unreadable: not counted
		}
		if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	return size
}
