package shim

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

func TestOOMKills(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("memory/berth/v1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
	write("berth/v2/memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n")
	write("memory/berth/none/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n")

	for _, tc := range []struct {
		path string
		n    uint64
		ok   bool
	}{
		{"/berth/v1", 2, true},
		{"/berth/v2", 1, true},
		{"/berth/none", 0, false},
		{"/berth/missing", 0, false},
		{"", 0, false},
	} {
		n, ok := oomKills(root, tc.path)
		assert.Equal(t, n, tc.n, tc.path)
		assert.Equal(t, ok, tc.ok, tc.path)
	}
}
