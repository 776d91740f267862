package daemon

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
)

func TestDetachKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []byte
		wantErr bool
	}{
		{in: "", want: []byte{16, 17}},
		{in: "ctrl-p,ctrl-q", want: []byte{16, 17}},
		{in: "ctrl-a", want: []byte{1}},
		{in: "CTRL-Z,x", want: []byte{26, 'x'}},
		{in: "ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", want: []byte{0, 27, 28, 29, 30, 31}},
		{in: "a,b,c", want: []byte{'a', 'b', 'c'}},
		{in: "ctrl-1", wantErr: true},
		{in: "ctrl-", wantErr: true},
		{in: "ab", wantErr: true},
		{in: "ctrl-p,,ctrl-q", wantErr: true},
	}
	for _, tc := range tests {
		got, err := detachKeys(tc.in)
		if tc.wantErr {
			assert.Check(t, errdefs.IsInvalidArgument(err), "%q: %v", tc.in, err)
			continue
		}
		assert.NilError(t, err, tc.in)
		assert.DeepEqual(t, got, tc.want)
	}
}

func TestEscapeReader(t *testing.T) {
	t.Parallel()
	keys := []byte{16, 17}
	tests := []struct {
		name     string
		in       string
		want     string
		detached bool
	}{
		{name: "plain", in: "hello\n", want: "hello\n"},
		{name: "detach", in: "ls\n\x10\x11after", want: "ls\n", detached: true},
		{name: "detach only", in: "\x10\x11", want: "", detached: true},
		{name: "broken sequence passes", in: "a\x10b\x11", want: "a\x10b\x11"},
		{name: "prefix at end passes", in: "abc\x10", want: "abc\x10"},
		{name: "repeated first key", in: "\x10\x10\x11", want: "\x10", detached: true},
	}
	for _, tc := range tests {
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(tc.in)
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			got, err := io.ReadAll(newEscapeReader(src, keys))
			assert.Equal(t, string(got), tc.want, "%s (one byte reads: %v)", tc.name, oneByte)
			assert.Equal(t, errors.Is(err, errDetached), tc.detached, "%s: %v", tc.name, err)
		}
	}
}
