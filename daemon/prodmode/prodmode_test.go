package prodmode

import (
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	auto := func(from string) []Tmpfs {
		return []Tmpfs{{"/run", "tmpcopyup", from}, {"/tmp", "tmpcopyup", from}, {"/var/tmp", "tmpcopyup", from}}
	}
	for _, tc := range []struct {
		name       string
		image, ctr map[string]string
		request    bool
		defaults   Defaults
		want       Decision
		wantErr    string
	}{
		{name: "nothing", want: Decision{}},
		{name: "request", request: true, want: Decision{ReadOnly: true, ReadOnlyFrom: "--read-only"}},
		{name: "image label", image: map[string]string{LabelReadOnly: "true"},
			want: Decision{ReadOnly: true, ReadOnlyFrom: "image label io.berth.read-only"}},
		{name: "container label overrides image", image: map[string]string{LabelReadOnly: "true"}, ctr: map[string]string{LabelReadOnly: "false"},
			want: Decision{ReadOnly: false, ReadOnlyFrom: "container label io.berth.read-only"}},
		{name: "request wins over label false", ctr: map[string]string{LabelReadOnly: "false"}, request: true,
			want: Decision{ReadOnly: true, ReadOnlyFrom: "--read-only"}},
		{name: "daemon default", defaults: Defaults{ReadOnly: true},
			want: Decision{ReadOnly: true, ReadOnlyFrom: "daemon --read-only-default"}},
		{name: "daemon default opted out", defaults: Defaults{ReadOnly: true}, ctr: map[string]string{LabelReadOnly: "false"},
			want: Decision{ReadOnlyFrom: "container label io.berth.read-only"}},
		{name: "tmpfs label", image: map[string]string{LabelTmpfs: " /run  /var/cache/app:size=64m\n/tmp/"},
			want: Decision{Tmpfs: []Tmpfs{{"/run", "", "image label io.berth.tmpfs"}, {"/var/cache/app", "size=64m", "image label io.berth.tmpfs"}, {"/tmp", "", "image label io.berth.tmpfs"}}}},
		{name: "container tmpfs label replaces image's", image: map[string]string{LabelTmpfs: "/run"}, ctr: map[string]string{LabelTmpfs: ""},
			want: Decision{}},
		{name: "auto tmpfs needs read-only", defaults: Defaults{ReadOnlyTmpfs: true}, want: Decision{}},
		{name: "auto tmpfs daemon", defaults: Defaults{ReadOnlyTmpfs: true}, request: true,
			want: Decision{ReadOnly: true, ReadOnlyFrom: "--read-only", Tmpfs: auto("daemon --read-only-tmpfs")}},
		{name: "auto tmpfs label after label tmpfs", request: true, ctr: map[string]string{LabelReadOnlyTmpfs: "true", LabelTmpfs: "/tmp:size=1m"},
			want: Decision{ReadOnly: true, ReadOnlyFrom: "--read-only", Tmpfs: []Tmpfs{
				{"/tmp", "size=1m", "container label io.berth.tmpfs"},
				{"/run", "tmpcopyup", "container label io.berth.read-only-tmpfs"},
				{"/var/tmp", "tmpcopyup", "container label io.berth.read-only-tmpfs"}}}},
		{name: "auto tmpfs opted out", request: true, defaults: Defaults{ReadOnlyTmpfs: true}, image: map[string]string{LabelReadOnlyTmpfs: "false"},
			want: Decision{ReadOnly: true, ReadOnlyFrom: "--read-only"}},
		{name: "bad bool", image: map[string]string{LabelReadOnly: "maybe"}, wantErr: `image label io.berth.read-only: invalid value "maybe"`},
		{name: "empty bool", ctr: map[string]string{LabelReadOnlyTmpfs: ""}, wantErr: `container label io.berth.read-only-tmpfs: invalid value ""`},
		{name: "relative tmpfs", image: map[string]string{LabelTmpfs: "run"}, wantErr: `image label io.berth.tmpfs: invalid tmpfs "run": the path must be absolute`},
		{name: "root tmpfs", image: map[string]string{LabelTmpfs: "/"}, wantErr: `destination can't be '/'`},
		{name: "duplicate tmpfs", image: map[string]string{LabelTmpfs: "/run /run/"}, wantErr: `tmpfs /run given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decide(tc.image, tc.ctr, tc.request, tc.defaults)
			if tc.wantErr != "" {
				assert.Check(t, errdefs.IsInvalidArgument(err), "%v", err)
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(got, tc.want))
		})
	}
}

func FuzzParseTmpfsLabel(f *testing.F) {
	for _, s := range []string{"/run /tmp:size=64m", "", "a", "/ /", "/x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := ParseTmpfsLabel(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if e.Destination == "/" || e.Destination[0] != '/' || seen[e.Destination] {
				t.Fatalf("bad entry %+v from %q", e, s)
			}
			seen[e.Destination] = true
		}
	})
}
