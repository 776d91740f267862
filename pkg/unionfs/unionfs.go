// Package unionfs looks up paths in a stack of overlayfs layer directories
// without mounting them: it applies overlay's rules (the topmost entry wins,
// whiteouts hide, opaque directories stop the merge) and resolves symlinks
// inside the union, never on the host.
package unionfs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrTooManyLinks is returned when symlinks loop.
var ErrTooManyLinks = errors.New("too many levels of symbolic links")

const maxLinks = 255

// Entry is a path found in the union.
type Entry struct {
	Path string      // the resolved path inside the union (symlinks followed when asked)
	Host string      // the path on the host of the topmost layer's entry
	Info fs.FileInfo // Lstat of Host
}

// Lookup finds p in layers (top first). With follow, a final symlink is
// followed too. A missing path returns an error for which
// errors.Is(err, fs.ErrNotExist) holds.
func Lookup(layers []string, p string, follow bool) (Entry, error) {
	links := 0
	for {
		e, target, err := lookupOnce(layers, p, follow, &links)
		if err != nil {
			return Entry{}, err
		}
		if target == "" {
			return e, nil
		}
		p = target
	}
}

// lookupOnce walks p component by component. When a symlink must be
// followed it returns the rewritten path to restart from.
func lookupOnce(layers []string, p string, follow bool, links *int) (Entry, string, error) {
	parts := strings.Split(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
	if len(parts) == 1 && parts[0] == "" {
		parts = nil
	}
	// contributing are the layers whose directory at cur merges into the union.
	contributing := layers
	cur := "/"
	var entry Entry
	entry.Path = "/"
	if len(layers) > 0 {
		entry.Host = layers[0]
		if fi, err := os.Lstat(layers[0]); err == nil {
			entry.Info = fi
		}
	}
	for i, name := range parts {
		next := path.Join(cur, name)
		var found *Entry
		var foundLayer string
		var below []string
		for j, layer := range contributing {
			host := filepath.Join(layer, next)
			fi, err := os.Lstat(host)
			if err == nil {
				if isWhiteout(fi) {
					return Entry{}, "", &fs.PathError{Op: "lookup", Path: next, Err: fs.ErrNotExist}
				}
				found = &Entry{Path: next, Host: host, Info: fi}
				foundLayer = layer
				if fi.IsDir() && !isOpaque(host) {
					below = contributing[j+1:]
				}
				break
			}
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, unix.ENOTDIR) {
				return Entry{}, "", err
			}
			if isOpaque(filepath.Join(layer, cur)) {
				break
			}
		}
		if found == nil {
			return Entry{}, "", &fs.PathError{Op: "lookup", Path: next, Err: fs.ErrNotExist}
		}
		last := i == len(parts)-1
		if found.Info.Mode()&fs.ModeSymlink != 0 && (!last || follow) {
			*links++
			if *links > maxLinks {
				return Entry{}, "", ErrTooManyLinks
			}
			target, err := os.Readlink(found.Host)
			if err != nil {
				return Entry{}, "", err
			}
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			rest := path.Join(parts[i+1:]...)
			return Entry{}, path.Join("/", target, rest), nil
		}
		if !last && !found.Info.IsDir() {
			return Entry{}, "", &fs.PathError{Op: "lookup", Path: next, Err: unix.ENOTDIR}
		}
		// Only layers that have a directory here keep contributing.
		keep := []string{foundLayer}
		for _, layer := range below {
			fi, err := os.Lstat(filepath.Join(layer, next))
			if err != nil {
				continue
			}
			if isWhiteout(fi) || !fi.IsDir() {
				break
			}
			keep = append(keep, layer)
			if isOpaque(filepath.Join(layer, next)) {
				break
			}
		}
		if !found.Info.IsDir() {
			keep = nil
		}
		contributing = keep
		cur = next
		entry = *found
	}
	return entry, "", nil
}

// ReadFile reads a regular file from the union, following symlinks inside it.
func ReadFile(layers []string, p string) ([]byte, error) {
	e, err := Lookup(layers, p, true)
	if err != nil {
		return nil, err
	}
	if !e.Info.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("not a regular file")}
	}
	return os.ReadFile(e.Host)
}

func isWhiteout(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Rdev == 0
}

func isOpaque(dir string) bool {
	buf := make([]byte, 4)
	n, err := unix.Lgetxattr(dir, "trusted.overlay.opaque", buf)
	return err == nil && n == 1 && buf[0] == 'y'
}
