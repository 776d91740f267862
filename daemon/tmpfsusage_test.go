package daemon

import (
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

func TestStatfsUsage(t *testing.T) {
	t.Parallel()
	size, used, err := statfsUsage("/dev/shm")
	assert.NilError(t, err)
	assert.Assert(t, size > 0 && used >= 0 && used <= size, "size %d used %d", size, used)

	_, _, err = statfsUsage(t.TempDir())
	if err == nil {
		t.Log("the temporary directory is on a tmpfs here")
	} else {
		assert.ErrorContains(t, err, "not a tmpfs")
	}
	_, _, err = statfsUsage(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorContains(t, err, "statfs")
}
