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
	s, err := New(root)
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
	s2, err := New(root)
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
	s, err := New(t.TempDir())
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
	_, _, err = s.Create("x", "", map[string]string{"type": "tmpfs"}, nil)
	assert.Assert(t, errdefs.IsInvalidArgument(err))
	assert.Equal(t, len(s.List()), 0)

	// The longest name is a valid directory name.
	v, created, err := s.Create(strings.Repeat("v", MaxNameLength), "", nil, nil)
	assert.NilError(t, err)
	assert.Check(t, created)
	assert.Equal(t, len(v.Name), MaxNameLength)
}
