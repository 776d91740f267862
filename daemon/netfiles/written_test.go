package netfiles

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrittenUnchanged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
		data   string
		want   bool
	}{
		{"untouched, same data", func(*testing.T, string) {}, "a\n", true},
		{"untouched, other data", func(*testing.T, string) {}, "b\n", false},
		{"written since, other size", func(t *testing.T, p string) { must(t, os.WriteFile(p, []byte("abc\n"), 0o644)) }, "a\n", false},
		{"replaced by another file", func(t *testing.T, p string) {
			must(t, os.WriteFile(p+".new", []byte("a\n"), 0o644))
			must(t, os.Rename(p+".new", p))
		}, "a\n", false},
		{"mode changed", func(t *testing.T, p string) { must(t, os.Chmod(p, 0o600)) }, "a\n", false},
		{"removed", func(t *testing.T, p string) { must(t, os.Remove(p)) }, "a\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "hosts")
			w, err := WriteInPlaceRecord(p, []byte("a\n"))
			must(t, err)
			tc.change(t, p)
			if got := w.Unchanged(p, []byte(tc.data)); got != tc.want {
				t.Errorf("Unchanged = %v, want %v", got, tc.want)
			}
		})
	}
	if (Written{}).Unchanged(filepath.Join(t.TempDir(), "x"), nil) {
		t.Error("the zero Written reports a file unchanged")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
