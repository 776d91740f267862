package server

import (
	"encoding/json"
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/api/types/berth"
)

func TestInspectBerthInfo(t *testing.T) {
	usage := []berth.TmpfsUsage{{Destination: "/run", SizeBytes: 8 << 20, UsedBytes: 4096, Mode: "0755", CopyUp: true, Options: "noexec"}}
	for _, tc := range []struct {
		name      string
		usage     []berth.TmpfsUsage
		err       error
		wantBerth string // the "Berth" member, "" when absent
	}{
		{"with usage", usage, nil,
			`{"Tmpfs":[{"Destination":"/run","SizeBytes":8388608,"UsedBytes":4096,"Mode":"0755","UID":0,"GID":0,"CopyUp":true,"Options":"noexec"}]}`},
		{"no tmpfs", nil, nil, `{"Tmpfs":[]}`},
		{"not running any more", nil, errdefs.ErrConflict.WithMessage("not running"), ""},
		{"gone", nil, errdefs.ErrNotFound.WithMessage("no such container"), ""},
		{"failure", nil, errdefs.ErrUnknown.WithMessage("statfs"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fb, ts := newTestServer(t)
			fb.tmpfsFn = func() ([]berth.TmpfsUsage, error) { return tc.usage, tc.err }
			resp := do(t, ts, "GET", "/v1.47/containers/web/json", "")
			assert.Equal(t, resp.status, 200, resp.body)
			var got map[string]json.RawMessage
			assert.NilError(t, json.Unmarshal([]byte(resp.body), &got))
			assert.Equal(t, string(got["Id"]), `"c0ffee"`, "Docker's fields stay at the top level")
			assert.Equal(t, string(got["Berth"]), tc.wantBerth)
		})
	}
}

func TestInspectBerthProduction(t *testing.T) {
	prod := &berth.Production{ReadOnly: true, ReadOnlyFrom: "image label io.berth.read-only", Tmpfs: []berth.ProductionTmpfs{{Destination: "/run", Options: "noexec", From: "image label io.berth.tmpfs"}}}
	fb, ts := newTestServer(t)
	fb.prodFn = func() (*berth.Production, error) { return prod, nil }
	resp := do(t, ts, "GET", "/v1.47/containers/web/json", "")
	assert.Equal(t, resp.status, 200, resp.body)
	var got map[string]json.RawMessage
	assert.NilError(t, json.Unmarshal([]byte(resp.body), &got))
	assert.Equal(t, string(got["Berth"]), `{"Tmpfs":null,"Production":{"ReadOnly":true,"ReadOnlyFrom":"image label io.berth.read-only","Tmpfs":[{"Destination":"/run","Options":"noexec","From":"image label io.berth.tmpfs"}]}}`)
}
