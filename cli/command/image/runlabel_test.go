package image

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestRunlabelArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, line, image, cname string
		extra                    []string
		want                     []string
		wantErr                  string
	}{
		{name: "atomic RUN", line: "docker run -d --read-only --tmpfs /run --tmpfs /tmp IMAGE", image: "app:v1",
			want: []string{"run", "-d", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp", "app:v1"}},
		{name: "name default and forms", line: "/usr/bin/podman run --name NAME --label=x=${NAME} $IMAGE", image: "reg.example/team/app:v1@sha256:ab",
			want: []string{"run", "--name", "app", "--label=x=${NAME}", "reg.example/team/app:v1@sha256:ab"}},
		{name: "name given and --name=", line: "berth run --name=NAME IMAGE", image: "app", cname: "web", extra: []string{"echo", "hi"},
			want: []string{"run", "--name=web", "app", "echo", "hi"}},
		{name: "quotes", line: `docker run IMAGE sh -c 'echo "a b"' "x \"y\"" z\ w`, image: "i",
			want: []string{"run", "i", "sh", "-c", `echo "a b"`, `x "y"`, "z w"}},
		{name: "no substitution inside words", line: "docker run -e IMAGE_X=1 IMAGE", image: "i",
			want: []string{"run", "-e", "IMAGE_X=1", "i"}},
		{name: "host program refused", line: "/bin/sh -c 'rm -rf /'", image: "i", wantErr: `must start with docker, podman or berth, not "/bin/sh"`},
		{name: "empty", line: "  ", image: "i", wantErr: "empty"},
		{name: "unterminated", line: "docker run 'x", image: "i", wantErr: "unterminated ' quote"},
		{name: "trailing backslash", line: `docker run \`, image: "i", wantErr: "backslash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := runlabelArgs(tc.line, tc.image, tc.cname, tc.extra)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(got, tc.want))
		})
	}
}

func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{`a 'b c' "d\"e"`, `\`, `"`, "x\ty\nz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitWords(s)
		if err == nil && len(words) > len(s) {
			t.Fatalf("%d words from %d bytes", len(words), len(s))
		}
	})
}
