package httputils

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"gotest.tools/v3/assert"
)

func TestBoolValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  bool
	}{
		{"", false},
		{"v=", false},
		{"v=0", false},
		{"v=false", false},
		{"v=False", false},
		{"v=no", false},
		{"v=none", false},
		{"v=1", true},
		{"v=true", true},
		{"v=True", true},
		{"v=yes", true},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/x?"+tc.query, nil)
		assert.Equal(t, BoolValue(r, "v"), tc.want, "query %q", tc.query)
	}
	r := httptest.NewRequest("GET", "/x", nil)
	assert.Equal(t, BoolValueOrDefault(r, "v", true), true)
	r = httptest.NewRequest("GET", "/x?v=0", nil)
	assert.Equal(t, BoolValueOrDefault(r, "v", true), false)
}

func TestIntValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query   string
		want    int
		wantOK  bool
		wantErr bool
	}{
		{"", 0, false, false},
		{"t=", 0, false, false},
		{"t=10", 10, true, false},
		{"t=-1", -1, true, false},
		{"t=ten", 0, false, true},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/x?"+tc.query, nil)
		v, ok, err := IntValue(r, "t")
		assert.Equal(t, errdefs.IsInvalidArgument(err), tc.wantErr, "query %q", tc.query)
		assert.Equal(t, v, tc.want)
		assert.Equal(t, ok, tc.wantOK)
	}
	_, err := UintValue(httptest.NewRequest("GET", "/x?h=-3", nil), "h")
	assert.Check(t, errdefs.IsInvalidArgument(err))
	h, err := UintValue(httptest.NewRequest("GET", "/x?h=40", nil), "h")
	assert.NilError(t, err)
	assert.Equal(t, h, uint(40))
}

func TestVersionContext(t *testing.T) {
	t.Parallel()
	assert.Equal(t, VersionFromContext(context.Background()), "")
	assert.Equal(t, VersionFromContext(WithVersion(context.Background(), "1.44")), "1.44")
}

func TestStatusFromError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{errdefs.ErrInvalidArgument, 400},
		{fmt.Errorf("x: %w", errdefs.ErrNotFound), 404},
		{errdefs.ErrConflict, 409},
		{fmt.Errorf("name in use: %w", errdefs.ErrAlreadyExists), 409},
		{fmt.Errorf("already running: %w", errdefs.ErrNotModified), 304},
		{errdefs.ErrFailedPrecondition, 412},
		{errdefs.ErrNotImplemented, 501},
		{errors.New("boom"), 500},
		{fmt.Errorf("create: %w", &BodyTooLargeError{Limit: MaxJSONBody}), 413},
	}
	for _, tc := range tests {
		assert.Equal(t, StatusFromError(tc.err), tc.want, "err %v", tc.err)
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	assert.Equal(t, WriteError(w, errdefs.ErrNotFound.WithMessage("No such image: x")), 404)
	assert.Equal(t, w.Code, 404)
	assert.Equal(t, w.Header().Get("Content-Type"), "application/json")
	assert.Equal(t, w.Body.String(), `{"message":"No such image: x"}`+"\n")

	w = httptest.NewRecorder()
	assert.Equal(t, WriteError(w, errdefs.ErrNotModified), 304)
	assert.Equal(t, w.Body.String(), "")
}

func TestReadJSON(t *testing.T) {
	t.Parallel()
	type body struct{ Name string }
	tests := []struct {
		body, contentType string
		wantErr           string
		wantName          string
	}{
		{`{"Name":"a"}`, "application/json", "", "a"},
		{`{"Name":"a"}`, "", "", "a"},
		{`{"Name":"a"}`, "application/json; charset=utf-8", "", "a"},
		{"", "application/json", "invalid JSON: got EOF while reading request body", ""},
		{`{"Name":`, "application/json", "invalid JSON: unexpected EOF", ""},
		{`{"Name":"a"} {}`, "application/json", "unexpected content after JSON", ""},
		{`{"Name":"a"}`, "text/plain", "unsupported Content-Type header (text/plain): must be 'application/json'", ""},
	}
	for _, tc := range tests {
		r, err := http.NewRequest("POST", "/x", strings.NewReader(tc.body))
		assert.NilError(t, err)
		if tc.contentType != "" {
			r.Header.Set("Content-Type", tc.contentType)
		}
		var b body
		err = ReadJSON(r, &b)
		if tc.wantErr != "" {
			assert.Error(t, err, tc.wantErr)
			assert.Check(t, errdefs.IsInvalidArgument(err))
			continue
		}
		assert.NilError(t, err)
		assert.Equal(t, b.Name, tc.wantName)
	}
}

func TestReadJSONTooLarge(t *testing.T) {
	t.Parallel()
	big := `{"Name":"` + strings.Repeat("x", MaxJSONBody) + `"}`
	const msg = "request body is too large: a JSON request body is limited to 10 MiB"

	// Announced by Content-Length: refused before reading a byte.
	body := &countingReader{r: strings.NewReader(big)}
	r := httptest.NewRequest("POST", "/x", body)
	r.ContentLength = int64(len(big))
	var b struct{ Name string }
	err := ReadJSON(r, &b)
	assert.Error(t, err, msg)
	assert.Equal(t, StatusFromError(err), http.StatusRequestEntityTooLarge)
	assert.Equal(t, body.n, 0)

	// Chunked (no Content-Length): refused once the limit is read.
	body = &countingReader{r: strings.NewReader(big)}
	r = httptest.NewRequest("POST", "/x", body)
	r.ContentLength = -1
	err = ReadJSON(r, &b)
	assert.Error(t, err, msg)
	assert.Assert(t, body.n <= MaxJSONBody+64<<10, "read %d bytes", body.n)

	// Just under the limit is fine.
	ok := `{"Name":"` + strings.Repeat("y", MaxJSONBody-20) + `"}`
	r = httptest.NewRequest("POST", "/x", strings.NewReader(ok))
	assert.NilError(t, ReadJSON(r, &b))
	assert.Equal(t, len(b.Name), MaxJSONBody-20)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestStdWriter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	out, errw := NewStdWriter(&buf, Stdout), NewStdWriter(&buf, Stderr)
	n, err := out.Write([]byte("hello"))
	assert.NilError(t, err)
	assert.Equal(t, n, 5)
	_, _ = errw.Write([]byte("bad\n"))
	n, err = out.Write(nil)
	assert.NilError(t, err)
	assert.Equal(t, n, 0)

	raw := buf.Bytes()
	assert.DeepEqual(t, raw[:8], []byte{1, 0, 0, 0, 0, 0, 0, 5})
	assert.Equal(t, binary.BigEndian.Uint32(raw[13+4:13+8]), uint32(4))

	var stdout, stderr bytes.Buffer
	_, err = stdcopy.StdCopy(&stdout, &stderr, bytes.NewReader(raw))
	assert.NilError(t, err)
	assert.Equal(t, stdout.String(), "hello")
	assert.Equal(t, stderr.String(), "bad\n")
}
