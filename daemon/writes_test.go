package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestWalkNoFollow(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o600))
	assert.NilError(t, os.MkdirAll(filepath.Join(root, "run/app"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(root, "run/app/app.pid"), []byte("42\n"), 0o644))
	assert.NilError(t, os.Symlink(outside, filepath.Join(root, "escape")))
	deep := filepath.Join(root, strings.Repeat("d/", maxWriteDepth+2))
	assert.NilError(t, os.MkdirAll(deep, 0o755))

	got := map[string]string{}
	truncated, err := walkNoFollow(root, func(rel string, st *unix.Stat_t) {
		got[rel] = writeKind(st)
	})
	assert.NilError(t, err)
	assert.Check(t, truncated, "deeper than maxWriteDepth")
	assert.Check(t, is.Equal(got["run/app/app.pid"], "file"))
	assert.Check(t, is.Equal(got["run/app"], "dir"))
	assert.Check(t, is.Equal(got["escape"], "symlink"))
	for rel := range got {
		assert.Check(t, !strings.HasPrefix(rel, "escape/"), "followed the link: %s", rel)
		assert.Check(t, strings.Count(rel, "/") < maxWriteDepth, "too deep: %s", rel)
	}

	_, err = walkNoFollow(filepath.Join(root, "escape"), func(string, *unix.Stat_t) {})
	assert.Check(t, err != nil, "a root that is a link is refused")
}
