package prunefilter

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestParseAndMatch(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	old := now.Add(-48 * time.Hour)
	recent := now.Add(-time.Minute)
	all := []string{"until", "label", "label!", "dangling", "all"}
	tests := []struct {
		name    string
		filters map[string][]string
		created time.Time
		labels  map[string]string
		want    bool
	}{
		{"no filter", nil, recent, nil, true},
		{"until duration, old enough", map[string][]string{"until": {"24h"}}, old, nil, true},
		{"until duration, too recent", map[string][]string{"until": {"24h"}}, recent, nil, false},
		{"until unix seconds", map[string][]string{"until": {"1700000000"}}, time.Unix(1699999999, 0), nil, true},
		{"until RFC 3339", map[string][]string{"until": {"2026-11-28T00:00:00Z"}}, recent, nil, false},
		{"label key present", map[string][]string{"label": {"a"}}, recent, map[string]string{"a": "1"}, true},
		{"label key=value mismatch", map[string][]string{"label": {"a=2"}}, recent, map[string]string{"a": "1"}, false},
		{"label! excludes", map[string][]string{"label!": {"keep"}}, recent, map[string]string{"keep": ""}, false},
		{"label! lets others go", map[string][]string{"label!": {"keep"}}, recent, map[string]string{"a": ""}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(tc.filters, all, now)
			assert.NilError(t, err)
			assert.Equal(t, f.Match(tc.created, tc.labels), tc.want)
		})
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	now := time.Now()
	f, err := Parse(nil, nil, now)
	assert.NilError(t, err)
	assert.Check(t, f.Dangling)
	assert.Check(t, !f.All)
	f, err = Parse(map[string][]string{"dangling": {"false"}, "all": {"true"}}, []string{"dangling", "all"}, now)
	assert.NilError(t, err)
	assert.Check(t, !f.Dangling)
	assert.Check(t, f.All)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tc := range []struct {
		filters map[string][]string
		want    string
	}{
		{map[string][]string{"name": {"x"}}, "Invalid filter 'name'"},
		{map[string][]string{"until": {"yesterday"}}, `failed to parse value as time or duration: "yesterday"`},
		{map[string][]string{"until": {"1", "2"}}, "more than one until filter specified"},
		{map[string][]string{"dangling": {"maybe"}}, "invalid filter 'dangling=maybe'"},
	} {
		_, err := Parse(tc.filters, []string{"until", "dangling"}, now)
		assert.Check(t, is.ErrorContains(err, tc.want))
	}
}

func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"10m", "1700000000.5", "2026-01-02", "", "1.", ".5", "-1h"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Timestamp(s, now)
	})
}
