package opts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestParseMountSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want mount.Mount
	}{
		{
			in:   "type=tmpfs,dst=/app",
			want: mount.Mount{Type: mount.TypeTmpfs, Target: "/app"},
		},
		{
			// Docker's own equivalence: 1m == 1MB, 0700 == 700.
			in:   "type=tmpfs,target=/a,tmpfs-size=1m,tmpfs-mode=0700",
			want: mount.Mount{Type: mount.TypeTmpfs, Target: "/a", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o700}},
		},
		{
			in:   "type=tmpfs,destination=/a,tmpfs-size=1MB,tmpfs-mode=1777,readonly",
			want: mount.Mount{Type: mount.TypeTmpfs, Target: "/a", ReadOnly: true, TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o1777}},
		},
		{
			in:   "TYPE=TMPFS,DST=/a,ro=0",
			want: mount.Mount{Type: mount.TypeTmpfs, Target: "/a"},
		},
		{
			in: "type=tmpfs,dst=/a,tmpfs-uid=1000,tmpfs-gid=www-data,tmpfs-exec,tmpfs-copyup=false",
			want: mount.Mount{Type: mount.TypeTmpfs, Target: "/a", TmpfsOptions: &mount.TmpfsOptions{
				Options: [][]string{{"uid", "1000"}, {"gid", "www-data"}, {"exec"}, {"notmpcopyup"}},
			}},
		},
		{
			// A later key of the same group replaces the earlier entry.
			in: "type=tmpfs,dst=/a,tmpfs-exec=true,tmpfs-copyup,tmpfs-exec=0,tmpfs-uid=1,tmpfs-uid=2",
			want: mount.Mount{Type: mount.TypeTmpfs, Target: "/a", TmpfsOptions: &mount.TmpfsOptions{
				Options: [][]string{{"noexec"}, {"tmpcopyup"}, {"uid", "2"}},
			}},
		},
		{
			in:   "dst=/data,src=myvol",
			want: mount.Mount{Type: mount.TypeVolume, Source: "myvol", Target: "/data"},
		},
		{
			in: "type=volume,src=v,dst=/d,volume-nocopy,volume-opt=type=tmpfs,volume-opt=o=size=1m,volume-label=a=b,volume-driver=local",
			want: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/d", VolumeOptions: &mount.VolumeOptions{
				NoCopy: true,
				Labels: map[string]string{"a": "b"},
				DriverConfig: &mount.Driver{
					Name:    "local",
					Options: map[string]string{"type": "tmpfs", "o": "size=1m"},
				},
			}},
		},
		{
			in:   "type=bind,source=/host,target=/c,bind-propagation=RSHARED,ro=true",
			want: mount.Mount{Type: mount.TypeBind, Source: "/host", Target: "/c", ReadOnly: true, BindOptions: &mount.BindOptions{Propagation: mount.PropagationRShared}},
		},
		{
			// Quoted CSV fields may hold commas.
			in:   `type=volume,dst=/d,"volume-opt=o=size=1m,uid=1000"`,
			want: mount.Mount{Type: mount.TypeVolume, Target: "/d", VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Options: map[string]string{"o": "size=1m,uid=1000"}}}},
		},
		{
			// Unknown types are the daemon's to refuse.
			in:   "type=foo,dst=/a",
			want: mount.Mount{Type: "foo", Target: "/a"},
		},
	}
	for _, tc := range tests {
		got, err := ParseMountSpec(tc.in)
		assert.NilError(t, err, tc.in)
		assert.DeepEqual(t, got, tc.want)
	}
}

func TestParseMountSpecRelativeSource(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	assert.NilError(t, err)
	got, err := ParseMountSpec("type=bind,src=./x,dst=/x")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(got.Source, filepath.Join(wd, "x")))
}

func TestParseMountSpecErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, err string }{
		{"type=tmpfs,foo", "invalid field 'foo' must be a key=value pair"},
		{"type=tmpfs,,dst=/a", "invalid field '' must be a key=value pair"},
		{"type=tmpfs,dst=/a,foo=bar", "unexpected key 'foo' in 'foo=bar'"},
		{"type=tmpfs, dst=/a", "unexpected key ' dst' in ' dst=/a'"},
		{"type=tmpfs,dst=/a,tmpfs-size=abc", "invalid value for tmpfs-size: abc"},
		{"type=tmpfs,dst=/a,tmpfs-size=", "invalid value for tmpfs-size: "},
		{"type=tmpfs,dst=/a,tmpfs-size=-1", "invalid value for tmpfs-size: -1"},
		{"type=tmpfs,dst=/a,tmpfs-mode=0o1777", "invalid value for tmpfs-mode: 0o1777"},
		{"type=tmpfs,dst=/a,tmpfs-mode=rwx", "invalid value for tmpfs-mode: rwx"},
		{"type=tmpfs,dst=/a,tmpfs-mode=999", "invalid value for tmpfs-mode: 999"},
		{"type=tmpfs,dst=/a,tmpfs-uid=", "invalid value for tmpfs-uid: "},
		{"type=tmpfs,dst=/a,tmpfs-gid=1,2", "invalid field '2' must be a key=value pair"},
		{"type=tmpfs,dst=/a,tmpfs-exec=maybe", "invalid value for tmpfs-exec: maybe"},
		{"type=tmpfs,dst=/a,tmpfs-copyup=yes", "invalid value for tmpfs-copyup: yes"},
		{"type=tmpfs,dst=/a,ro=maybe", "invalid value for ro: maybe"},
		{"type=volume,dst=/a,volume-nocopy=maybe", "invalid value for volume-nocopy: maybe"},
		{"type=", "type is required"},
		{"type=tmpfs", "target is required"},
		{"type=tmpfs,dst=", "target is required"},
		{"type=bind,src=/x,dst=/a,tmpfs-size=1m", "cannot mix 'tmpfs-*' options with mount type 'bind'"},
		{"type=volume,dst=/a,tmpfs-exec", "cannot mix 'tmpfs-*' options with mount type 'volume'"},
		{"type=tmpfs,dst=/a,volume-nocopy", "cannot mix 'volume-*' options with mount type 'tmpfs'"},
		{"type=tmpfs,dst=/a,bind-propagation=rshared", "cannot mix 'bind-*' options with mount type 'tmpfs'"},
		{`"type=tmpfs,dst=/a`, `parse error on line 1, column 19: extraneous or missing " in quoted-field`},
	}
	for _, tc := range tests {
		_, err := ParseMountSpec(tc.in)
		assert.Check(t, is.Error(err, tc.err), tc.in)
		assert.Check(t, errdefs.IsInvalidArgument(err), tc.in)
	}
}

func TestMountOpt(t *testing.T) {
	t.Parallel()
	var o MountOpt
	assert.NilError(t, o.Set("type=tmpfs,dst=/a"))
	assert.NilError(t, o.Set("type=bind,src=/h,dst=/b"))
	assert.Check(t, is.ErrorContains(o.Set("type=tmpfs"), "target is required"))
	assert.Check(t, is.Len(o.Value(), 2))
	assert.Check(t, is.Equal(o.String(), "tmpfs  /a, bind /h /b"))
}

func FuzzParseMountSpec(f *testing.F) {
	for _, seed := range []string{
		"type=tmpfs,dst=/a,tmpfs-size=1m,tmpfs-mode=1777",
		"type=tmpfs,dst=/a,tmpfs-uid=1,tmpfs-exec,tmpfs-copyup=0",
		"type=volume,src=v,dst=/d,volume-opt=a=b",
		"type=bind,src=/h,dst=/b,bind-propagation=rslave,ro",
		`"type=tmpfs",dst=/a`,
		"",
		",,,",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseMountSpec(in)
		if err != nil {
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("error for %q is not invalid-argument: %v", in, err)
			}
			return
		}
		if m.Type == "" || m.Target == "" {
			t.Fatalf("accepted %q without type or target: %+v", in, m)
		}
		if m.TmpfsOptions != nil && m.Type != mount.TypeTmpfs {
			t.Fatalf("accepted tmpfs options on %q mount: %q", m.Type, in)
		}
		if m.TmpfsOptions != nil {
			if m.TmpfsOptions.SizeBytes < 0 {
				t.Fatalf("negative size from %q", in)
			}
			for _, o := range m.TmpfsOptions.Options {
				if len(o) < 1 || len(o) > 2 || strings.ContainsAny(strings.Join(o, ""), ",") {
					t.Fatalf("malformed option %q from %q", o, in)
				}
			}
		}
	})
}
