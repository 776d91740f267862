package images

import (
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestParseReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		name, tag string
		err       string
	}{
		{in: "busybox", name: "docker.io/library/busybox", tag: "latest"},
		{in: "busybox:1.36", name: "docker.io/library/busybox", tag: "1.36"},
		{in: "library/busybox", name: "docker.io/library/busybox", tag: "latest"},
		{in: "docker.io/library/busybox:latest", name: "docker.io/library/busybox", tag: "latest"},
		{in: "foo/bar:1", name: "docker.io/foo/bar", tag: "1"},
		{in: "localhost:5000/x", name: "localhost:5000/x", tag: "latest"},
		{in: "localhost:5000/x:v2", name: "localhost:5000/x", tag: "v2"},
		{in: "ghcr.io/a/b/c:t_1.0-x", name: "ghcr.io/a/b/c", tag: "t_1.0-x"},
		{in: "", err: "invalid reference format"},
		{in: "Busybox", err: "invalid reference format: repository name (library/Busybox) must be lowercase"},
		{in: "busy box", err: "invalid reference format"},
		{in: "busybox:", err: "invalid reference format"},
		{in: "-busybox", err: "invalid reference format"},
		{in: "busybox@sha256:" + hex64("a"), err: "invalid reference format: digest references are not supported: busybox@sha256:" + hex64("a")},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			name, tag, err := ParseReference(tc.in)
			if tc.err != "" {
				assert.Error(t, err, tc.err)
				assert.Check(t, errdefs.IsInvalidArgument(err))
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.Equal(name, tc.name))
			assert.Check(t, is.Equal(tag, tc.tag))
		})
	}
}

func TestFamiliarName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"docker.io/library/busybox:latest": "busybox:latest",
		"docker.io/foo/bar:1":              "foo/bar:1",
		"localhost:5000/x:latest":          "localhost:5000/x:latest",
		"busybox:latest":                   "busybox:latest",
		"not a ref":                        "not a ref",
	}
	for in, want := range tests {
		assert.Check(t, is.Equal(FamiliarName(in), want), in)
	}
}

func hex64(c string) string {
	s := ""
	for len(s) < 64 {
		s += c
	}
	return s
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"busybox", "foo/bar:1", "localhost:5000/x", "a@sha256:" + hex64("0"), "UPPER", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		name, tag, err := ParseReference(ref)
		if err != nil {
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("error not classed invalid argument: %v", err)
			}
			return
		}
		// A normalized reference parses to itself.
		n2, t2, err := ParseReference(name + ":" + tag)
		if err != nil || n2 != name || t2 != tag {
			t.Fatalf("%q -> %q:%q does not round-trip: %q:%q %v", ref, name, tag, n2, t2, err)
		}
	})
}
