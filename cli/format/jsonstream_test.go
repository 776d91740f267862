package format

import (
	"bytes"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestDisplayJSONStream(t *testing.T) {
	t.Parallel()
	in := `{"stream":"Loaded image: busybox:latest\n"}
{"status":"sha256:abc"}
{"status":"Extracting","id":"l1","progressDetail":{"current":1,"total":2}}
{"status":"Done","id":"l1"}
`
	var out bytes.Buffer
	assert.NilError(t, DisplayJSONStream(strings.NewReader(in), &out))
	assert.Check(t, is.Equal(out.String(), "Loaded image: busybox:latest\nsha256:abc\nl1: Done\n"))

	out.Reset()
	err := DisplayJSONStream(strings.NewReader(`{"stream":"a\n"}{"errorDetail":{"message":"bad tar"},"error":"bad tar"}`), &out)
	assert.Check(t, is.Error(err, "bad tar"))
	assert.Check(t, is.Equal(out.String(), "a\n"))

	err = DisplayJSONStream(strings.NewReader(`{"error":"legacy"}`), &out)
	assert.Check(t, is.Error(err, "legacy"))
	err = DisplayJSONStream(strings.NewReader(`not json`), &out)
	assert.Check(t, is.ErrorContains(err, "reading daemon response"))
}
