package volumes

import (
	"os"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
)

func TestVolumeLifecycle(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s, err := New(root, Checks{})
	assert.NilError(t, err)
	v, created, err := s.Create("data", "", nil, map[string]string{"a": "b"})
	assert.NilError(t, err)
	assert.Assert(t, created)
	_, created, err = s.Create("data", "local", nil, nil)
	assert.NilError(t, err)
	assert.Assert(t, !created, "creating an existing volume returns it")
	st, err := os.Stat(s.Path("data"))
	assert.NilError(t, err)
	assert.Assert(t, st.IsDir())
	assert.Equal(t, s.API(v).Mountpoint, s.Path("data"))
	assert.Equal(t, s.API(v).Labels["a"], "b")

	anon, _, err := s.Create("", "", nil, nil)
	assert.NilError(t, err)
	assert.Equal(t, len(anon.Name), 64)
	assert.Assert(t, anon.Anonymous)

	// a second store finds them again
	s2, err := New(root, Checks{})
	assert.NilError(t, err)
	assert.Equal(t, len(s2.List()), 2)

	assert.NilError(t, s2.Remove("data"))
	_, err = s2.Get("data")
	assert.Assert(t, errdefs.IsNotFound(err))
	_, err = os.Stat(s.Path("data"))
	assert.Assert(t, os.IsNotExist(err))
}

func TestVolumeBadInput(t *testing.T) {
	t.Parallel()
	s, err := New(t.TempDir(), Checks{})
	assert.NilError(t, err)
	for _, tc := range []struct{ name, driver, want string }{
		{"a/b", "", "includes invalid characters"},
		{"x", "nfs", `volume driver "nfs" is not supported`},
		{"-x", "", "invalid characters"},
		{strings.Repeat("v", 300), "", "volume name is too long: 300 characters, the limit is 255"},
	} {
		_, _, err := s.Create(tc.name, tc.driver, nil, nil)
		assert.ErrorContains(t, err, tc.want)
		assert.Assert(t, errdefs.IsInvalidArgument(err))
	}
	_, _, err = s.Create("x", "", map[string]string{"type": "ext4", "device": "/dev/sda1"}, nil)
	assert.Assert(t, errdefs.IsInvalidArgument(err))
	assert.Equal(t, len(s.List()), 0)

	// The longest name is a valid directory name.
	v, created, err := s.Create(strings.Repeat("v", MaxNameLength), "", nil, nil)
	assert.NilError(t, err)
	assert.Check(t, created)
	assert.Equal(t, len(v.Name), MaxNameLength)
}

func TestVolumeOptionsPersist(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s, err := New(root, Checks{})
	assert.NilError(t, err)
	opts := map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=64m,uid=1000,mode=1777"}
	v, created, err := s.Create("tv", "local", opts, nil)
	assert.NilError(t, err)
	assert.Assert(t, created)
	assert.DeepEqual(t, s.API(v).Options, opts)
	// The same options again return the volume; others are a conflict.
	_, created, err = s.Create("tv", "", opts, nil)
	assert.NilError(t, err)
	assert.Assert(t, !created)
	_, _, err = s.Create("tv", "", map[string]string{"type": "tmpfs", "o": "size=1m"}, nil)
	assert.Assert(t, errdefs.IsConflict(err), "%v", err)

	s2, err := New(root, Checks{})
	assert.NilError(t, err)
	v2, err := s2.Get("tv")
	assert.NilError(t, err)
	assert.DeepEqual(t, s2.API(v2).Options, opts)
	assert.DeepEqual(t, v2.mount, &Mount{Type: "tmpfs", Device: "tmpfs", Data: "size=64m,mode=1777,uid=1000"})

	// A bind volume's device must exist and be a directory.
	_, _, err = s.Create("bv", "", map[string]string{"type": "none", "o": "bind", "device": root + "/missing"}, nil)
	assert.Assert(t, errdefs.IsInvalidArgument(err), "%v", err)
	assert.ErrorContains(t, err, "device="+root+"/missing")
	_, _, err = s.Create("bv", "", map[string]string{"type": "none", "o": "bind", "device": root + "/tv/meta.json"}, nil)
	assert.ErrorContains(t, err, "not a directory")
	_, _, err = s.Create("bv", "", map[string]string{"type": "none", "o": "bind", "device": root}, nil)
	assert.NilError(t, err)
	assert.Equal(t, len(s.List()), 2)
}
