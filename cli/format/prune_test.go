package format

import (
	"bytes"
	"testing"

	"github.com/moby/moby/api/types/image"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestWritePruneReport(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	WriteDeleted(&out, "Deleted Networks:", nil)
	WriteDeleted(&out, "Deleted Images:", PrunedImages([]image.DeleteResponse{{Untagged: "a:v1"}, {Deleted: "sha256:1"}, {Untagged: "b:v1", Deleted: "sha256:2"}}))
	assert.NilError(t, WriteReclaimed(&out, 2048))
	assert.Check(t, is.Equal(out.String(),
		"Deleted Images:\nuntagged: a:v1\ndeleted: sha256:1\nuntagged: b:v1\ndeleted: sha256:2\n\nTotal reclaimed space: 2.05kB\n"))
}
