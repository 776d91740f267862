package format

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/jsonstream"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
	assert.Check(t, is.Equal(ProgressBar(jsonstream.Progress{}), ""))
	half := ProgressBar(jsonstream.Progress{Current: 500, Total: 1000})
	assert.Check(t, strings.HasPrefix(half, "["+strings.Repeat("=", 25)+">"), half)
	assert.Check(t, strings.HasSuffix(half, "500B/1kB"), half)
	full := ProgressBar(jsonstream.Progress{Current: 2000, Total: 1000})
	assert.Check(t, strings.HasPrefix(full, "["+strings.Repeat("=", 50)+"]"), full)
}

func TestDisplayProgressStream(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		`{"status":"Pulling from test/x","id":"v1"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"bbb"}`,
		`{"status":"Downloading","progressDetail":{"current":5,"total":10},"id":"aaa"}`,
		`{"status":"Pull complete","id":"aaa"}`,
		`{"status":"Digest: sha256:00"}`,
	}, "\r\n")
	var out bytes.Buffer
	assert.NilError(t, DisplayProgressStream(strings.NewReader(in), &out, true))
	s := out.String()
	// New ids get a line; "aaa" (two lines up) is redrawn in place.
	assert.Check(t, is.Contains(s, "\x1b[2Kaaa: Pulling fs layer\n\x1b[2Kbbb: Pulling fs layer\n"))
	assert.Check(t, is.Contains(s, "\x1b[2A\r\x1b[2Kaaa: Downloading ["))
	assert.Check(t, is.Contains(s, "\x1b[2A\r\x1b[2Kaaa: Pull complete\r\x1b[2B"))
	assert.Check(t, strings.HasSuffix(s, "Digest: sha256:00\n"))

	var plain bytes.Buffer
	assert.NilError(t, DisplayProgressStream(strings.NewReader(in), &plain, false))
	assert.Check(t, !strings.Contains(plain.String(), "\x1b"))

	err := DisplayProgressStream(strings.NewReader(`{"errorDetail":{"message":"boom"},"error":"boom"}`), &out, true)
	assert.Check(t, is.Error(err, "boom"))
}
