package jsonlog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

func TestLineSplitter(t *testing.T) {
	t.Parallel()
	var got []string
	s := &LineSplitter{Emit: func(l []byte) { got = append(got, string(l)) }}
	_, _ = s.Write([]byte("a\nbb"))
	_, _ = s.Write([]byte("b\n\nc"))
	s.Flush()
	assert.DeepEqual(t, got, []string{"a\n", "bbb\n", "\n", "c"})

	got = nil
	_, _ = s.Write([]byte(strings.Repeat("x", maxLine+3)))
	s.Flush()
	assert.Equal(t, len(got), 2)
	assert.Equal(t, len(got[0]), maxLine)
	assert.Equal(t, got[1], "xxx")
}

func TestWriteReadTailSince(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "c-json.log")
	w, err := Open(p)
	assert.NilError(t, err)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, l := range []string{"one\n", "two\n", "three\n"} {
		stream := "stdout"
		if i == 1 {
			stream = "stderr"
		}
		assert.NilError(t, w.Write(stream, []byte(l), base.Add(time.Duration(i)*time.Second)))
	}
	assert.NilError(t, w.Close())
	raw, _ := os.ReadFile(p)
	assert.Assert(t, strings.HasPrefix(string(raw), `{"log":"one\n","stream":"stdout","time":"2026-01-01T00:00:00Z"}`), string(raw))

	read := func(o ReadOptions) []string {
		var out []string
		assert.NilError(t, Read(context.Background(), p, o, func(e Entry) error {
			out = append(out, e.Stream+":"+e.Log)
			return nil
		}))
		return out
	}
	assert.DeepEqual(t, read(ReadOptions{Tail: -1}), []string{"stdout:one\n", "stderr:two\n", "stdout:three\n"})
	assert.DeepEqual(t, read(ReadOptions{Tail: 1}), []string{"stdout:three\n"})
	assert.DeepEqual(t, read(ReadOptions{Tail: 0}), []string(nil))
	assert.DeepEqual(t, read(ReadOptions{Tail: -1, Since: base.Add(time.Second)}), []string{"stderr:two\n", "stdout:three\n"})
	assert.DeepEqual(t, read(ReadOptions{Tail: -1, Until: base.Add(time.Second)}), []string{"stdout:one\n", "stderr:two\n"})
	assert.DeepEqual(t, read(ReadOptions{Tail: -1}), read(ReadOptions{Tail: 10}))
}

func TestFollow(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "c-json.log")
	w, err := Open(p)
	assert.NilError(t, err)
	var done atomic.Bool
	got := make(chan string, 10)
	finished := make(chan error)
	go func() {
		finished <- Read(context.Background(), p, ReadOptions{Tail: -1, Follow: true, Done: done.Load}, func(e Entry) error {
			got <- e.Log
			return nil
		})
	}()
	assert.NilError(t, w.Write("stdout", []byte("late\n"), time.Now()))
	select {
	case l := <-got:
		assert.Equal(t, l, "late\n")
	case <-time.After(5 * time.Second):
		t.Fatal("follower did not see the new line")
	}
	done.Store(true)
	select {
	case err := <-finished:
		assert.NilError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("follower did not stop when done")
	}
}

// A reader opened before the log is deleted (the container removed while
// a client has the response's headers but has not read the body yet)
// still gets every record, also when following.
func TestReaderOutlivesRemoval(t *testing.T) {
	t.Parallel()
	for _, follow := range []bool{false, true} {
		dir := t.TempDir()
		p := filepath.Join(dir, "c-json.log")
		w, err := Open(p)
		assert.NilError(t, err)
		assert.NilError(t, w.Write("stdout", []byte("kept\n"), time.Now()))
		assert.NilError(t, w.Close())
		r, err := OpenReader(p)
		assert.NilError(t, err)
		assert.NilError(t, os.RemoveAll(dir))
		var got []string
		err = r.Read(context.Background(), ReadOptions{Tail: -1, Follow: follow, Done: func() bool { return true }}, func(e Entry) error {
			got = append(got, e.Log)
			return nil
		})
		assert.NilError(t, err)
		assert.DeepEqual(t, got, []string{"kept\n"})
	}
}
