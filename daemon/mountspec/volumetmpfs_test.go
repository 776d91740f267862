package mountspec

import (
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// TestPolicyVolumeTmpfs: a tmpfs volume gets the daemon's default size and
// is held to --max-tmpfs-size like any tmpfs.
func TestPolicyVolumeTmpfs(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy("8m", "64m", false)
	assert.NilError(t, err)
	for _, tc := range []struct{ o, data, err string }{
		{o: "", data: "size=8388608"},
		{o: "size=64m,uid=1000", data: "size=64m,uid=1000"},
		{o: "nr_blocks=16", data: "nr_blocks=16"},
		{o: "size=65m", err: "tmpfs volume v: size=65m is larger than this daemon's limit of 64m (--max-tmpfs-size)"},
		{o: "size=0", err: "tmpfs volume v: size=0 means no size limit"},
		{o: "size=10%", err: "size=10% is a share of memory"},
	} {
		opts, err := tmpfsopt.Parse(tc.o)
		assert.NilError(t, err)
		got, err := p.VolumeTmpfs("v", opts)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err)
			continue
		}
		assert.NilError(t, err)
		assert.Equal(t, got.Data(), tc.data)
	}
	none, err := NewPolicy("", "", false)
	assert.NilError(t, err)
	got, err := none.VolumeTmpfs("v", tmpfsopt.Options{})
	assert.NilError(t, err)
	assert.Equal(t, got.Data(), "")
}
