package jsonlog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func readAll(t *testing.T, p string, o ReadOptions) []string {
	t.Helper()
	var out []string
	assert.NilError(t, Read(context.Background(), p, o, func(e Entry) error {
		out = append(out, e.Log)
		return nil
	}))
	return out
}

func TestRotation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		maxFiles int
		files    []string
	}{
		{maxFiles: 1, files: []string{"c.log"}},
		{maxFiles: 2, files: []string{"c.log", "c.log.1"}},
		{maxFiles: 3, files: []string{"c.log", "c.log.1", "c.log.2"}},
	} {
		t.Run(fmt.Sprint(tc.maxFiles), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := filepath.Join(dir, "c.log")
			w, err := OpenRotating(p, 200, tc.maxFiles)
			assert.NilError(t, err)
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := 0; i < 50; i++ {
				assert.NilError(t, w.Write("stdout", []byte(fmt.Sprintf("line %02d\n", i)), t0))
			}
			assert.NilError(t, w.Close())
			ents, err := os.ReadDir(dir)
			assert.NilError(t, err)
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
				st, err := os.Stat(filepath.Join(dir, e.Name()))
				assert.NilError(t, err)
				assert.Check(t, st.Size() <= 200, "%s has %d bytes", e.Name(), st.Size())
			}
			assert.DeepEqual(t, names, tc.files)
			// What is left reads in order, across the files, and ends
			// with the last line.
			all := readAll(t, p, ReadOptions{Tail: -1})
			assert.Assert(t, len(all) > 0)
			assert.Check(t, is.Equal(all[len(all)-1], "line 49\n"))
			for i := 1; i < len(all); i++ {
				assert.Check(t, all[i-1] < all[i], "out of order: %q then %q", all[i-1], all[i])
			}
			// Tail counts across files.
			n := len(all)
			if n > 3 {
				assert.DeepEqual(t, readAll(t, p, ReadOptions{Tail: n - 1}), all[1:])
			}
		})
	}
}

func TestOpenRotatingKeepsSize(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "c.log")
	w, err := OpenRotating(p, 100, 2)
	assert.NilError(t, err)
	assert.NilError(t, w.Write("stdout", []byte("0123456789012345678901234567890123456789\n"), time.Unix(0, 0)))
	assert.NilError(t, w.Close())
	// A reopened log (the next run) counts what is already there.
	w, err = OpenRotating(p, 100, 2)
	assert.NilError(t, err)
	assert.NilError(t, w.Write("stdout", []byte("0123456789012345678901234567890123456789\n"), time.Unix(0, 0)))
	assert.NilError(t, w.Close())
	assert.DeepEqual(t, Files(p), []string{p + ".1", p})
}

func TestFollowAcrossRotation(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "c.log")
	w, err := OpenRotating(p, 150, 2)
	assert.NilError(t, err)
	assert.NilError(t, w.Write("stdout", []byte("first\n"), time.Unix(0, 0)))
	got := make(chan string, 100)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Read(context.Background(), p, ReadOptions{Tail: -1, Follow: true, Done: func() bool {
			select {
			case <-stop:
				return true
			default:
				return false
			}
		}}, func(e Entry) error { got <- e.Log; return nil })
	}()
	assert.Equal(t, <-got, "first\n")
	for i := 0; i < 6; i++ {
		assert.NilError(t, w.Write("stdout", []byte(fmt.Sprintf("more %d\n", i)), time.Unix(0, 0)))
		// Each line is seen before the next is written, rotation or not.
		assert.Equal(t, <-got, fmt.Sprintf("more %d\n", i))
	}
	assert.NilError(t, w.Close())
	close(stop)
	assert.NilError(t, <-done)
}
