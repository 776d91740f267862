package layerdiff

import (
	"os"
	"path/filepath"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

func TestChanges(t *testing.T) {
	t.Parallel()
	lower := map[string]bool{"/etc": true, "/etc/passwd": true, "/bin": true, "/bin/sh": true, "/tmp": true}
	inLower := func(p string) bool { return lower[p] }
	tests := []struct {
		name    string
		entries []Entry
		want    []containertypes.FilesystemChange
	}{
		{name: "empty", want: []containertypes.FilesystemChange{}},
		{
			name:    "added file in an existing directory",
			entries: []Entry{{Path: "/tmp"}, {Path: "/tmp/new"}},
			want: []containertypes.FilesystemChange{
				{Path: "/tmp", Kind: containertypes.ChangeModify},
				{Path: "/tmp/new", Kind: containertypes.ChangeAdd},
			},
		},
		{
			name:    "whiteout is a deletion, sorted by path",
			entries: []Entry{{Path: "/etc/passwd", Whiteout: true}, {Path: "/bin"}, {Path: "/etc"}, {Path: "/bin/sh"}},
			want: []containertypes.FilesystemChange{
				{Path: "/bin", Kind: containertypes.ChangeModify},
				{Path: "/bin/sh", Kind: containertypes.ChangeModify},
				{Path: "/etc", Kind: containertypes.ChangeModify},
				{Path: "/etc/passwd", Kind: containertypes.ChangeDelete},
			},
		},
		{
			name:    "new directory tree, unclean paths, root skipped",
			entries: []Entry{{Path: "/"}, {Path: "data/"}, {Path: "/data//x"}},
			want: []containertypes.FilesystemChange{
				{Path: "/data", Kind: containertypes.ChangeAdd},
				{Path: "/data/x", Kind: containertypes.ChangeAdd},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.DeepEqual(t, Changes(tc.entries, inLower), tc.want)
		})
	}
}

func TestWalkFindsWhiteoutsAndStaysInside(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test needs root (mknod of a whiteout)")
	}
	t.Parallel()
	dir := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "etc", "new"), nil, 0o644))
	assert.NilError(t, unix.Mknod(filepath.Join(dir, "etc", "passwd"), unix.S_IFCHR|0o600, 0))
	// A symlink to the host's root is listed, never followed.
	assert.NilError(t, os.Symlink("/", filepath.Join(dir, "escape")))
	got, err := Walk(dir)
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []Entry{
		{Path: "/escape"},
		{Path: "/etc"},
		{Path: "/etc/new"},
		{Path: "/etc/passwd", Whiteout: true},
	})

	lowerDir := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(lowerDir, "etc"), 0o755))
	assert.NilError(t, os.Symlink("/", filepath.Join(lowerDir, "up")))
	inLower, done := InLower([]string{lowerDir})
	defer done()
	assert.Check(t, inLower("/etc"))
	assert.Check(t, !inLower("/etc/new"))
	// /up/etc would be the host's /etc if the symlink were followed out.
	assert.Check(t, !inLower("/up/etc"))
}
