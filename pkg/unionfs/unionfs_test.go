package unionfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// layers builds a stack of layer directories from specs, top first. Each
// spec maps a path to "dir", "file:<content>", "link:<target>", "whiteout"
// or "opaque" (an opaque directory, needs root for trusted xattrs).
func layers(t *testing.T, specs ...map[string]string) []string {
	t.Helper()
	var out []string
	for _, spec := range specs {
		root := t.TempDir()
		for p, kind := range spec {
			host := filepath.Join(root, p)
			assert.NilError(t, os.MkdirAll(filepath.Dir(host), 0o755))
			switch {
			case kind == "dir":
				assert.NilError(t, os.MkdirAll(host, 0o710))
			case kind == "opaque":
				assert.NilError(t, os.MkdirAll(host, 0o755))
				if err := unix.Setxattr(host, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
					t.Fatalf("set opaque xattr (needs root): %v", err)
				}
			case kind == "whiteout":
				if err := unix.Mknod(host, unix.S_IFCHR, 0); err != nil {
					t.Fatalf("mknod whiteout (needs root): %v", err)
				}
			case len(kind) > 5 && kind[:5] == "file:":
				assert.NilError(t, os.WriteFile(host, []byte(kind[5:]), 0o644))
			case len(kind) > 5 && kind[:5] == "link:":
				assert.NilError(t, os.Symlink(kind[5:], host))
			default:
				t.Fatalf("bad spec %q", kind)
			}
		}
		out = append([]string{root}, out...)
	}
	return out
}

func TestLookupPlain(t *testing.T) {
	t.Parallel()
	// bottom layer first in the call, top first in the result
	ls := layers(t,
		map[string]string{"/etc/passwd": "file:root", "/run/app": "dir", "/var/run": "link:../run", "/abs": "link:/etc"},
		map[string]string{"/etc/passwd": "file:top", "/run/new": "file:n"},
	)
	data, err := ReadFile(ls, "/etc/passwd")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "top")

	e, err := Lookup(ls, "/var/run/app", true)
	assert.NilError(t, err)
	assert.Equal(t, e.Path, "/run/app")
	assert.Assert(t, e.Info.IsDir())
	assert.Equal(t, e.Info.Mode().Perm(), os.FileMode(0o710))

	e, err = Lookup(ls, "/var/run/new", false)
	assert.NilError(t, err)
	assert.Equal(t, e.Path, "/run/new")

	e, err = Lookup(ls, "/var/run", false)
	assert.NilError(t, err)
	assert.Assert(t, e.Info.Mode()&fs.ModeSymlink != 0)

	// absolute links resolve inside the union, never on the host
	data, err = ReadFile(ls, "/abs/passwd")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "top")

	_, err = Lookup(ls, "/nope/x", true)
	assert.Assert(t, errors.Is(err, fs.ErrNotExist))
	_, err = Lookup(ls, "/etc/passwd/x", true)
	assert.Assert(t, err != nil)
}

func TestLookupEscapesStayInside(t *testing.T) {
	t.Parallel()
	ls := layers(t, map[string]string{"/a": "link:../../../../../etc", "/etc/hostname": "file:inside"})
	data, err := ReadFile(ls, "/a/hostname")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "inside")
}

func TestLookupLoop(t *testing.T) {
	t.Parallel()
	ls := layers(t, map[string]string{"/a": "link:/b", "/b": "link:/a"})
	_, err := Lookup(ls, "/a/x", true)
	assert.Assert(t, errors.Is(err, ErrTooManyLinks))
}

func TestLookupWhiteoutsAndOpaque(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (whiteout device nodes and trusted xattrs); run the suite as root")
	}
	ls := layers(t,
		map[string]string{"/gone": "file:x", "/d/old": "file:old", "/m/lower": "file:l"},
		map[string]string{"/gone": "whiteout", "/d": "opaque", "/d/new": "file:new", "/m/upper": "file:u"},
	)
	_, err := Lookup(ls, "/gone", false)
	assert.Assert(t, errors.Is(err, fs.ErrNotExist))
	_, err = Lookup(ls, "/d/old", false)
	assert.Assert(t, errors.Is(err, fs.ErrNotExist), "opaque dir must hide lower content: %v", err)
	_, err = Lookup(ls, "/d/new", false)
	assert.NilError(t, err)
	for _, p := range []string{"/m/lower", "/m/upper"} {
		_, err = Lookup(ls, p, false)
		assert.NilError(t, err, p)
	}
}
