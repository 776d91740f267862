package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/api/types/berth"
)

// tmpfsBackend adds tmpfs usage to the fake backend.
type tmpfsBackend struct {
	*fakeBackend
	usage []berth.TmpfsUsage
	err   error
}

func (b *tmpfsBackend) ContainerTmpfsUsage(_ context.Context, name string) ([]berth.TmpfsUsage, error) {
	return b.usage, b.err
}

func TestInspectBerthInfo(t *testing.T) {
	usage := []berth.TmpfsUsage{{Destination: "/run", SizeBytes: 8 << 20, UsedBytes: 4096, Mode: "0755", CopyUp: true, Options: "noexec"}}
	for _, tc := range []struct {
		name      string
		backend   func(*fakeBackend) Backend
		wantBerth string // the "Berth" member, "" when absent
	}{
		{"plain backend", func(fb *fakeBackend) Backend { return fb }, ""},
		{"with usage", func(fb *fakeBackend) Backend { return &tmpfsBackend{fakeBackend: fb, usage: usage} },
			`{"Tmpfs":[{"Destination":"/run","SizeBytes":8388608,"UsedBytes":4096,"Mode":"0755","UID":0,"GID":0,"CopyUp":true,"Options":"noexec"}]}`},
		{"no tmpfs", func(fb *fakeBackend) Backend { return &tmpfsBackend{fakeBackend: fb} }, `{"Tmpfs":[]}`},
		{"not running any more", func(fb *fakeBackend) Backend {
			return &tmpfsBackend{fakeBackend: fb, err: errdefs.ErrConflict.WithMessage("not running")}
		}, ""},
		{"failure", func(fb *fakeBackend) Backend {
			return &tmpfsBackend{fakeBackend: fb, err: errdefs.ErrUnknown.WithMessage("statfs")}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := New(tc.backend(&fakeBackend{}), Options{Logger: slog.New(slog.DiscardHandler)})
			ts := httptest.NewServer(srv)
			defer ts.Close()
			resp := do(t, ts, "GET", "/v1.47/containers/web/json", "")
			assert.Equal(t, resp.status, 200, resp.body)
			var got map[string]json.RawMessage
			assert.NilError(t, json.Unmarshal([]byte(resp.body), &got))
			assert.Equal(t, string(got["Id"]), `"c0ffee"`, "Docker's fields stay at the top level")
			assert.Equal(t, string(got["Berth"]), tc.wantBerth)
		})
	}
}
