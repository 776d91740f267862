package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

func TestWriteFileReplacesAndLeavesNoTemp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	assert.NilError(t, WriteFile(p, []byte("one"), 0o600))
	assert.NilError(t, WriteJSON(p, map[string]int{"a": 1}, 0o640))
	data, err := os.ReadFile(p)
	assert.NilError(t, err)
	assert.Equal(t, string(data), `{"a":1}`)
	st, err := os.Stat(p)
	assert.NilError(t, err)
	assert.Equal(t, st.Mode().Perm(), os.FileMode(0o640))
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 1, "temporary files left behind: %v", entries)
}

func TestWriteFileMissingDir(t *testing.T) {
	t.Parallel()
	err := WriteFile(filepath.Join(t.TempDir(), "nope", "x"), nil, 0o600)
	assert.Assert(t, err != nil)
}

func TestReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	assert.NilError(t, Replace(p, []byte("one"), 0o600))
	assert.NilError(t, ReplaceJSON(p, []int{1}, 0o600))
	data, err := os.ReadFile(p)
	assert.NilError(t, err)
	assert.Equal(t, string(data), "[1]")
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 1)
}
