package opts

import (
	"io/fs"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestParseSecurityOpts(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"deny-mkdir.json": "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [ {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"} ]\n}\n",
		"broken.json":     "{\"defaultAction\": ",
	}
	readFile := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	tests := []struct {
		name    string
		in      []string
		want    SecurityOpts
		wantErr string
	}{
		{name: "none"},
		{name: "passed through", in: []string{"no-new-privileges", "label=disable", "seccomp=unconfined", "apparmor:unconfined", "seccomp=builtin"},
			want: SecurityOpts{SecurityOpt: []string{"no-new-privileges", "label=disable", "seccomp=unconfined", "apparmor:unconfined", "seccomp=builtin"}}},
		{name: "profile file sent as compact JSON", in: []string{"seccomp=deny-mkdir.json"},
			want: SecurityOpts{SecurityOpt: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`}}},
		{name: "profile file with a colon", in: []string{"seccomp:deny-mkdir.json"},
			want: SecurityOpts{SecurityOpt: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`}}},
		{name: "systempaths", in: []string{"systempaths=unconfined", "no-new-privileges=true"},
			want: SecurityOpts{SecurityOpt: []string{"no-new-privileges=true"}, MaskedPaths: []string{}, ReadonlyPaths: []string{}}},
		{name: "missing file", in: []string{"seccomp=absent.json"}, wantErr: "opening seccomp profile (absent.json) failed"},
		{name: "broken file", in: []string{"seccomp=broken.json"}, wantErr: "compacting json for seccomp profile (broken.json) failed"},
		{name: "no value", in: []string{"label"}, wantErr: `Invalid --security-opt: "label"`},
		{name: "empty value", in: []string{"seccomp="}, wantErr: `Invalid --security-opt: "seccomp="`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSecurityOpts(tc.in, readFile)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(got, tc.want))
		})
	}
}
