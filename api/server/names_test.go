package server

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestRemoveLinkRefused: rm --link is refused, not taken for a removal of
// the container it names.
func TestRemoveLinkRefused(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t)
	resp := do(t, ts, "DELETE", "/containers/mydb?link=1", "")
	assert.Equal(t, resp.status, 501, resp.body)
	assert.Check(t, is.Contains(resp.body, "rm --link"))
}
