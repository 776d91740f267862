package server

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestContainerSizes: size=1 adds SizeRw and SizeRootFs to inspect and to
// the container list; without it they are absent, as in Docker.
func TestContainerSizes(t *testing.T) {
	_, ts := newTestServer(t)
	r := do(t, ts, "GET", "/containers/web/json?size=1", "")
	assert.Equal(t, r.status, 200, r.body)
	assert.Check(t, is.Contains(r.body, `"SizeRw":3,"SizeRootFs":5`))
	r = do(t, ts, "GET", "/containers/web/json", "")
	assert.Check(t, !strings.Contains(r.body, "SizeRw"), r.body)

	r = do(t, ts, "GET", "/containers/json?size=1", "")
	assert.Equal(t, r.status, 200, r.body)
	assert.Check(t, is.Contains(r.body, `"SizeRw":3,"SizeRootFs":5`))
	r = do(t, ts, "GET", "/containers/json", "")
	assert.Check(t, !strings.Contains(r.body, "SizeRw"), r.body)
}
