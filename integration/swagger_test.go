package integration

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/harness"
	"github.com/berth-project/berth/integration/internal/swagger"
)

// engineAPISpec is the Engine API definition of the API version berthd
// serves by default (moby/moby api docs/v1.47.yaml, vendored as test data).
const engineAPISpec = "testdata/engine-api-v1.47.yaml"

// TestSwaggerResponses validates the JSON bodies of the endpoints berthd
// serves against the Engine API definition: required properties present,
// types as declared.
func TestSwaggerResponses(t *testing.T) {
	harness.RequireTool(t, sdkPython)
	spec, err := swagger.Load(sdkPython, engineAPISpec)
	assert.NilError(t, err)

	// The checker itself must catch a missing required property and a
	// wrong type.
	volSchema, err := spec.ResponseSchema("/volumes/{name}", "get", "200")
	assert.NilError(t, err)
	problems, err := spec.Validate(volSchema, []byte(`{"Name":"x","Driver":3}`))
	assert.NilError(t, err)
	assert.Assert(t, len(problems) >= 2, "%v", problems)

	d := harness.New(t)
	d.LoadImage(t)
	res := d.Berth(t, "run", "-d", "--name", "sw", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp:size=1m",
		"--mount", "type=tmpfs,target=/cache,tmpfs-size=1m", "-v", "swvol:/data", "--label", "a=b", "busybox", "sleep", "300")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = d.Berth(t, "create", "--name", "swc", "busybox", "true")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = d.Docker(t, harness.DockerCLI, "network", "create", "--label", "x=y", "swnet")
	assert.Equal(t, res.ExitCode, 0, res.Combined())

	httpc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", d.Sock)
	}}, Timeout: 10 * time.Second}
	get := func(t *testing.T, path string) []byte {
		t.Helper()
		resp, err := httpc.Get("http://berth/v1.47" + path)
		assert.NilError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		assert.NilError(t, err)
		assert.Equal(t, resp.StatusCode, http.StatusOK, "%s: %s", path, body)
		return body
	}

	ping := get(t, "/_ping")
	assert.Equal(t, string(ping), "OK")

	for _, tc := range []struct{ url, op string }{
		{"/version", "/version"},
		{"/info", "/info"},
		{"/containers/json?all=1", "/containers/json"},
		{"/containers/sw/json", "/containers/{id}/json"},
		{"/containers/swc/json", "/containers/{id}/json"},
		{"/images/json", "/images/json"},
		{"/images/busybox/json", "/images/{name}/json"},
		{"/volumes", "/volumes"},
		{"/volumes/swvol", "/volumes/{name}"},
		{"/networks", "/networks"},
		{"/networks/swnet", "/networks/{id}"},
		{"/networks/bridge", "/networks/{id}"},
		{"/containers/swc/changes", "/containers/{id}/changes"},
		{"/images/busybox/history", "/images/{name}/history"},
		{"/system/df", "/system/df"},
		{"/plugins", "/plugins"},
	} {
		t.Run(strings.TrimPrefix(filepath.ToSlash(tc.url), "/"), func(t *testing.T) {
			schema, err := spec.ResponseSchema(tc.op, "get", "200")
			assert.NilError(t, err)
			problems, err := spec.Validate(schema, get(t, tc.url))
			assert.NilError(t, err)
			assert.Assert(t, len(problems) == 0, "%s does not match the Engine API definition:\n%s", tc.url, strings.Join(problems, "\n"))
		})
	}
}
