package opts

import (
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestParseMemBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"64m", 64 << 20, false},
		{"1g", 1 << 30, false},
		{"1GB", 1 << 30, false},
		{"512k", 512 << 10, false},
		{"1048576", 1 << 20, false},
		{"0", 0, false},
		{"-1", 0, true},
		{"abc", 0, true},
		{"", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseMemBytes(tc.in)
		if tc.err {
			assert.Check(t, is.ErrorContains(err, "invalid size"), tc.in)
			continue
		}
		assert.NilError(t, err, tc.in)
		assert.Check(t, is.Equal(got, tc.want), tc.in)
	}

	var m MemBytes
	assert.NilError(t, m.Set("64m"))
	assert.Check(t, is.Equal(int64(m), int64(64<<20)))
	assert.Check(t, is.Equal(m.String(), "64MiB"))
}

func TestParseRestartPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want containertypes.RestartPolicy
		err  string
	}{
		{"", containertypes.RestartPolicy{}, ""},
		{"no", containertypes.RestartPolicy{Name: "no"}, ""},
		{"always", containertypes.RestartPolicy{Name: "always"}, ""},
		{"unless-stopped", containertypes.RestartPolicy{Name: "unless-stopped"}, ""},
		{"on-failure", containertypes.RestartPolicy{Name: "on-failure"}, ""},
		{"on-failure:3", containertypes.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}, ""},
		{"on-failure:x", containertypes.RestartPolicy{}, "maximum retry count must be an integer"},
		{"always:3", containertypes.RestartPolicy{}, "can only be used with 'on-failure'"},
		{"sometimes", containertypes.RestartPolicy{}, "unknown policy 'sometimes'"},
	}
	for _, tc := range tests {
		got, err := ParseRestartPolicy(tc.in)
		if tc.err != "" {
			assert.Check(t, is.ErrorContains(err, tc.err), tc.in)
			continue
		}
		assert.NilError(t, err, tc.in)
		assert.Check(t, is.DeepEqual(got, tc.want), tc.in)
	}
}

func TestParseFilters(t *testing.T) {
	t.Parallel()
	f, err := ParseFilters([]string{"status=exited", "label=a=b", "Status=running"})
	assert.NilError(t, err)
	assert.DeepEqual(t, map[string]map[string]bool(f), map[string]map[string]bool{
		"status": {"exited": true, "running": true},
		"label":  {"a=b": true},
	})
	_, err = ParseFilters([]string{"status"})
	assert.Check(t, is.Error(err, "bad format of filter (expected name=value)"))
}
