package daemon

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/errdefs"
)

// defaultDetachKeys end an attach session with a TTY, as in Docker.
const defaultDetachKeys = "ctrl-p,ctrl-q"

// errDetached ends the input of a session whose client typed the detach
// keys: the session ends, the process keeps running.
var errDetached = errors.New("detached from the container")

// detachKeys parses Docker's detach key notation: comma-separated keys,
// each a single character or "ctrl-" followed by a letter or one of
// "@[\]^_". Empty means the default.
func detachKeys(s string) ([]byte, error) {
	if s == "" {
		s = defaultDetachKeys
	}
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		lower := strings.ToLower(k)
		switch {
		case len(k) == 1:
			keys = append(keys, k[0])
		case strings.HasPrefix(lower, "ctrl-") && len(k) == 6:
			c := lower[5]
			switch {
			case c >= 'a' && c <= 'z':
				keys = append(keys, c-'a'+1)
			case c == '@':
				keys = append(keys, 0)
			case c == '[', c == '\\', c == ']', c == '^', c == '_':
				keys = append(keys, c-'@')
			default:
				return nil, invalidDetachKeys(s)
			}
		default:
			return nil, invalidDetachKeys(s)
		}
	}
	return keys, nil
}

func invalidDetachKeys(s string) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid detach keys (%s) provided", s))
}

// escapeReader passes input through until the detach keys arrive, then
// returns errDetached. Bytes that may start the sequence are held back
// until the sequence completes (they are dropped) or breaks (they pass).
type escapeReader struct {
	r       io.Reader
	keys    []byte
	matched int    // keys[:matched] are held back
	pending []byte // released input not yet returned
	buf     []byte
	err     error // the error to return once pending is empty
}

func newEscapeReader(r io.Reader, keys []byte) io.Reader {
	if len(keys) == 0 {
		return r
	}
	return &escapeReader{r: r, keys: keys}
}

func (e *escapeReader) Read(p []byte) (int, error) {
	for len(e.pending) == 0 && e.err == nil {
		if e.buf == nil {
			e.buf = make([]byte, 32*1024)
		}
		n, err := e.r.Read(e.buf)
		for _, b := range e.buf[:n] {
			if b == e.keys[e.matched] {
				e.matched++
				if e.matched == len(e.keys) {
					e.matched = 0
					e.err = errDetached
					break
				}
				continue
			}
			e.pending = append(e.pending, e.keys[:e.matched]...)
			e.matched = 0
			if b == e.keys[0] {
				e.matched = 1
			} else {
				e.pending = append(e.pending, b)
			}
		}
		if err != nil && e.err == nil {
			e.pending = append(e.pending, e.keys[:e.matched]...)
			e.matched = 0
			e.err = err
		}
	}
	if len(e.pending) > 0 {
		n := copy(p, e.pending)
		e.pending = e.pending[n:]
		return n, nil
	}
	return 0, e.err
}
