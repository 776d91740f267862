package server

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"gotest.tools/v3/assert"
)

func TestImageLoad(t *testing.T) {
	t.Run("references and IDs", func(t *testing.T) {
		fb, ts := newTestServer(t)
		id := "sha256:" + strings.Repeat("0", 64)
		var body string
		fb.loadFn = func(r io.Reader) ([]string, error) {
			b, err := io.ReadAll(r)
			body = string(b)
			return []string{"docker.io/library/busybox:latest", "registry.example/app:v1", id}, err
		}
		resp := do(t, ts, "POST", "/v1.47/images/load?quiet=1", "tar bytes")
		assert.Equal(t, resp.status, 200)
		assert.Equal(t, resp.header.Get("Content-Type"), "application/json")
		assert.Equal(t, resp.body, `{"stream":"Loaded image: busybox:latest\n"}`+"\r\n"+
			`{"stream":"Loaded image: registry.example/app:v1\n"}`+"\r\n"+
			`{"stream":"Loaded image ID: `+id+`\n"}`+"\r\n")
		assert.Equal(t, body, "tar bytes")
	})
	t.Run("failure is in the stream", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.err = errdefs.ErrInvalidArgument.WithMessage("not a docker archive")
		resp := do(t, ts, "POST", "/images/load", "junk")
		assert.Equal(t, resp.status, 200)
		assert.Equal(t, resp.body, `{"errorDetail":{"message":"not a docker archive"},"error":"not a docker archive"}`+"\r\n")
	})
}

func TestImageCreate(t *testing.T) {
	t.Run("import from body", func(t *testing.T) {
		fb, ts := newTestServer(t)
		resp := do(t, ts, "POST", "/images/create?fromSrc=-&repo=myapp&tag=v2&changes=CMD%20%5B%22sh%22%5D&changes=ENV%20A%3Db", "rootfs-tar")
		assert.Equal(t, resp.status, 200, resp.body)
		assert.Equal(t, resp.header.Get("Content-Type"), "application/json")
		assert.Equal(t, resp.body, `{"status":"sha256:`+strings.Repeat("ab", 32)+`"}`+"\r\n")
		assert.Equal(t, fb.importArg.ref, "docker.io/library/myapp:v2")
		assert.Equal(t, fb.importArg.message, "Imported from -")
		assert.DeepEqual(t, fb.importArg.changes, []string{`CMD ["sh"]`, "ENV A=b"})
		assert.Equal(t, fb.importArg.body, "rootfs-tar")
	})
	t.Run("import untagged with message", func(t *testing.T) {
		fb, ts := newTestServer(t)
		resp := do(t, ts, "POST", "/images/create?fromSrc=-&message=hi", "rootfs-tar")
		assert.Equal(t, resp.status, 200)
		assert.Equal(t, fb.importArg.ref, "")
		assert.Equal(t, fb.importArg.message, "hi")
	})
	tests := []struct {
		name, query string
		wantStatus  int
		wantBody    string
	}{
		{"url", "fromSrc=http://example.com/rootfs.tar", 501, ""},
		{"nothing", "", 400, ""},
		{"bad repo", "fromSrc=-&repo=UPPER", 400, `{"message":"invalid reference format: UPPER"}` + "\n"},
		{"digest repo", "fromSrc=-&repo=busybox@sha256:" + strings.Repeat("a", 64), 400, `{"message":"cannot import digest reference"}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fb, ts := newTestServer(t)
			resp := do(t, ts, "POST", "/images/create?"+tc.query, "")
			assert.Equal(t, resp.status, tc.wantStatus, resp.body)
			if tc.wantBody != "" {
				assert.Equal(t, resp.body, tc.wantBody)
			}
			assert.Equal(t, fb.lastCall(), "")
		})
	}
}

func TestImagePullRoute(t *testing.T) {
	fb, ts := newTestServer(t)
	resp := do(t, ts, "POST", "/images/create?fromImage=busybox&tag=latest&platform=linux/arm64", "")
	assert.Equal(t, resp.status, 200, resp.body)
	assert.Equal(t, resp.body, `{"status":"Status: Downloaded newer image for busybox"}`+"\r\n")
	assert.Equal(t, fb.lastCall(), "ImagePull busybox latest linux/arm64 auth=false")

	resp = do(t, ts, "POST", "/images/create?fromImage=busybox&repo=x", "")
	assert.Equal(t, resp.status, 400, resp.body)
}

func TestImageTagAndDelete(t *testing.T) {
	fb, ts := newTestServer(t)
	resp := do(t, ts, "POST", "/images/busybox/tag", "")
	assert.Equal(t, resp.status, 400)
	assert.Equal(t, fb.lastCall(), "")

	resp = do(t, ts, "DELETE", "/images/busybox:latest", "")
	assert.Equal(t, resp.status, 200)
	assert.Equal(t, resp.body, `[{"Untagged":"busybox:latest"}]`+"\n")

	resp = do(t, ts, "GET", "/images/json", "")
	assert.Equal(t, resp.status, 200)
	assert.Equal(t, resp.body, "[]\n")

	resp = do(t, ts, "GET", "/images/busybox/json", "")
	assert.Check(t, strings.Contains(resp.body, `"RepoTags":[]`), resp.body)
	assert.Check(t, strings.Contains(resp.body, `"RepoDigests":[]`), resp.body)
}

func TestVolumes(t *testing.T) {
	fb, ts := newTestServer(t)
	resp := do(t, ts, "POST", "/volumes/create", `{"Name":"data","Driver":"local"}`)
	assert.Equal(t, resp.status, 201)
	assert.Equal(t, fb.lastCall(), "VolumeCreate data")

	resp = do(t, ts, "POST", "/v1.47/volumes/create", "")
	assert.Equal(t, resp.status, 201)
	assert.Equal(t, fb.lastCall(), "VolumeCreate ")

	resp = do(t, ts, "POST", "/volumes/create", `{"Name":`)
	assert.Equal(t, resp.status, 400)

	resp = do(t, ts, "GET", `/volumes?filters={"dangling":["true"]}`, "")
	assert.Equal(t, resp.status, 200)
	assert.Equal(t, fb.lastCall(), "VolumeList map[dangling:[true]]")
	assert.Check(t, strings.Contains(resp.body, `"Warnings":[]`), resp.body)
	assert.Check(t, strings.Contains(resp.body, `"Name":"data"`), resp.body)
}

func TestNetworks(t *testing.T) {
	fb, ts := newTestServer(t)
	resp := do(t, ts, "GET", "/networks", "")
	assert.Equal(t, resp.status, 200, resp.body)
	var nets []network.Summary
	assert.NilError(t, json.Unmarshal([]byte(resp.body), &nets))
	assert.Equal(t, len(nets), 3)

	// The filter terms are checked at the edge, before the backend.
	resp = do(t, ts, "GET", `/networks?filters={"colour":["red"]}`, "")
	assert.Equal(t, resp.status, 400)
	assert.Equal(t, resp.body, `{"message":"invalid filter 'colour'"}`+"\n")
	resp = do(t, ts, "GET", `/networks?filters={"type":["odd"]}`, "")
	assert.Equal(t, resp.status, 400)

	fb.netList = []network.Summary{}
	resp = do(t, ts, "GET", `/networks?filters={"type":["custom"]}`, "")
	assert.Equal(t, resp.status, 200)
	assert.Equal(t, resp.body, "[]\n")

	resp = do(t, ts, "GET", "/networks/mynet", "")
	assert.Equal(t, resp.status, 404)
	assert.Equal(t, resp.body, `{"message":"network mynet not found"}`+"\n")
}
