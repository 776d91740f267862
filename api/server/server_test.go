package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func newTestServer(t *testing.T) (*fakeBackend, *httptest.Server) {
	t.Helper()
	fb := &fakeBackend{}
	srv := New(fb, Options{Version: "0.1.0-test", Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return fb, ts
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, ts *httptest.Server, method, path, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	assert.NilError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.Client().Do(req)
	assert.NilError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func TestRouting(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
		wantCall     string
	}{
		{"POST", "/containers/web/start", 204, "ContainerStart web"},
		{"POST", "/v1.47/containers/web/start", 204, "ContainerStart web"},
		{"POST", "/v1.24/containers/web/start", 204, "ContainerStart web"},
		{"POST", "/v1.44/containers/web/kill?signal=TERM", 204, "ContainerKill web TERM"},
		{"POST", "/containers/web/restart?t=3", 204, "ContainerRestart web"},
		{"POST", "/containers/web/resize?h=24&w=80", 200, "ContainerResize web 24x80"},
		{"DELETE", "/v1.47/containers/web?force=1&v=true", 204, "ContainerRemove web force=true v=true"},
		{"DELETE", "/containers/web", 204, "ContainerRemove web force=false v=false"},
		{"GET", "/v1.47/containers/web/json", 200, "ContainerInspect web"},
		{"GET", "/v1.47/images/docker.io/library/busybox:latest/json", 200, "ImageInspect docker.io/library/busybox:latest"},
		{"GET", "/images/busybox/json", 200, "ImageInspect busybox"},
		{"GET", "/images/sha256:abc/json", 200, "ImageInspect sha256:abc"},
		{"DELETE", "/v1.47/images/docker.io/library/busybox:latest?force=1&noprune=1", 200, "ImageDelete docker.io/library/busybox:latest force=true prune=false"},
		{"DELETE", "/images/busybox", 200, "ImageDelete busybox force=false prune=true"},
		{"POST", "/v1.47/images/docker.io/library/busybox:latest/tag?repo=myrepo/app&tag=v1", 201, "ImageTag docker.io/library/busybox:latest docker.io/myrepo/app:v1"},
		{"POST", "/images/busybox/tag?repo=localhost:5000/app", 201, "ImageTag busybox localhost:5000/app:latest"},
		{"GET", "/images/json?all=1", 200, "ImageList all=true map[]"},
		{"GET", "/volumes/data", 200, "VolumeInspect data"},
		{"DELETE", "/v1.40/volumes/data?force=True", 204, "VolumeRemove data force=true"},
		{"GET", "/info", 200, "SystemInfo"},
		{"GET", "/v1.47/version", 200, "SystemVersion"},
		{"GET", "/containers/web/changes", 200, "changes web"},
		{"GET", "/images/busybox/history", 200, "history busybox"},
		{"POST", "/containers/web/rename?name=new", 204, "rename web new"},
		{"POST", "/containers/prune", 200, "containers prune"},
		{"POST", "/images/prune", 200, "images prune"},
		{"POST", "/volumes/prune", 200, "volumes prune"},
		{"GET", "/system/df", 200, "df"},
		{"GET", "/plugins", 200, ""},
		{"POST", "/build", 501, ""},
		{"GET", "/images/search?term=x", 501, ""},
		{"POST", "/plugins/pull", 501, ""},
		{"GET", "/nodes", 503, ""},
		{"GET", "/swarm", 503, ""},
		{"GET", "/v1.41/services/abc", 503, ""},
		// unknown paths and methods
		{"GET", "/containers/web/nochange", 404, ""},
		{"PUT", "/containers/web/start", 404, ""},
		{"GET", "/vabc/_ping", 404, ""},
		{"GET", "/images/busybox/histories", 404, ""},
		{"POST", "/images/busybox", 404, ""},
		{"GET", "/v1.47", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			fb, ts := newTestServer(t)
			resp := do(t, ts, tc.method, tc.path, "")
			assert.Equal(t, resp.status, tc.wantStatus, resp.body)
			assert.Equal(t, fb.lastCall(), tc.wantCall)
			if tc.wantStatus == 404 {
				assert.Equal(t, resp.body, `{"message":"page not found"}`+"\n")
				assert.Equal(t, resp.header.Get("Content-Type"), "application/json")
			}
		})
	}
}

func TestVersionAndHeaders(t *testing.T) {
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/v1.99/version", 400, `{"message":"client version 1.99 is too new. Maximum supported API version is 1.47"}` + "\n"},
		{"/v1.48/containers/json", 400, `{"message":"client version 1.48 is too new. Maximum supported API version is 1.47"}` + "\n"},
		{"/v1.23/version", 400, `{"message":"client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"}` + "\n"},
		{"/v1.100/_ping", 400, `{"message":"client version 1.100 is too new. Maximum supported API version is 1.47"}` + "\n"},
		{"/v1.24/_ping", 200, "OK"},
		{"/v1.47/_ping", 200, "OK"},
		{"/_ping", 200, "OK"},
		{"/nope", 404, `{"message":"page not found"}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			_, ts := newTestServer(t)
			resp := do(t, ts, "GET", tc.path, "")
			assert.Equal(t, resp.status, tc.wantStatus)
			assert.Equal(t, resp.body, tc.wantBody)
			assert.Equal(t, resp.header.Get("Api-Version"), "1.47")
			assert.Equal(t, resp.header.Get("Docker-Experimental"), "false")
			assert.Equal(t, resp.header.Get("Ostype"), "linux")
			assert.Equal(t, resp.header.Get("Server"), "Berth/0.1.0-test (linux)")
		})
	}
}

func TestVersionFromContext(t *testing.T) {
	fb, ts := newTestServer(t)
	var got []string
	fb.waitFn = func(ctx context.Context, _ string, _ containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
		got = append(got, httputils.VersionFromContext(ctx))
		ch := make(chan containertypes.WaitResponse, 1)
		ch <- containertypes.WaitResponse{}
		return ch, nil
	}
	do(t, ts, "POST", "/v1.30/containers/x/wait", "")
	do(t, ts, "POST", "/containers/x/wait", "")
	assert.DeepEqual(t, got, []string{"1.30", "1.47"})
}

func TestPing(t *testing.T) {
	_, ts := newTestServer(t)
	for _, method := range []string{"GET", "HEAD"} {
		resp := do(t, ts, method, "/_ping", "")
		assert.Equal(t, resp.status, 200)
		assert.Equal(t, resp.header.Get("Cache-Control"), "no-cache, no-store, must-revalidate")
		assert.Equal(t, resp.header.Get("Pragma"), "no-cache")
		assert.Equal(t, resp.header.Get("Builder-Version"), "1")
		assert.Equal(t, resp.header.Get("Api-Version"), "1.47")
		if method == "GET" {
			assert.Equal(t, resp.body, "OK")
		} else {
			assert.Equal(t, resp.body, "")
		}
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		method     string
		path       string
		wantStatus int
		wantBody   string
	}{
		{"not found", errdefs.ErrNotFound.WithMessage("No such container: web"), "GET", "/containers/web/json", 404, `{"message":"No such container: web"}` + "\n"},
		{"wrapped not found", fmt.Errorf("no such volume: data: %w", errdefs.ErrNotFound), "GET", "/volumes/data", 404, `{"message":"no such volume: data"}` + "\n"},
		{"conflict", fmt.Errorf("container is running: stop it first: %w", errdefs.ErrConflict), "DELETE", "/containers/web", 409, `{"message":"container is running: stop it first"}` + "\n"},
		{"already exists", errdefs.ErrAlreadyExists.WithMessage(`Conflict. The container name "/web" is already in use`), "POST", "/containers/create?name=web", 409, `{"message":"Conflict. The container name \"/web\" is already in use"}` + "\n"},
		{"invalid", errdefs.ErrInvalidArgument.WithMessage("bad tmpfs option"), "POST", "/containers/create", 400, `{"message":"bad tmpfs option"}` + "\n"},
		{"precondition", errdefs.ErrFailedPrecondition.WithMessage("not ready"), "POST", "/containers/web/restart", 412, `{"message":"not ready"}` + "\n"},
		{"unclassed", errors.New("disk on fire"), "POST", "/containers/web/stop", 500, `{"message":"disk on fire"}` + "\n"},
		{"start already started", fmt.Errorf("container web is already running: %w", errdefs.ErrNotModified), "POST", "/containers/web/start", 304, ""},
		{"stop already stopped", errdefs.ErrNotModified, "POST", "/containers/web/stop", 304, ""},
		{"kill wraps", errdefs.ErrNotFound.WithMessage("No such container: web"), "POST", "/containers/web/kill", 404, `{"message":"cannot kill container: web: No such container: web"}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fb, ts := newTestServer(t)
			fb.err = tc.err
			body := ""
			if tc.method == "POST" && strings.HasPrefix(tc.path, "/containers/create") {
				body = `{"Image":"busybox"}`
			}
			resp := do(t, ts, tc.method, tc.path, body)
			assert.Equal(t, resp.status, tc.wantStatus)
			assert.Equal(t, resp.body, tc.wantBody)
			if tc.wantStatus != 304 {
				assert.Equal(t, resp.header.Get("Content-Type"), "application/json")
			}
		})
	}
}

func TestContainerCreate(t *testing.T) {
	tests := []struct {
		name, path, body string
		contentType      string
		wantStatus       int
		wantBody         string
	}{
		{"bad name", "/containers/create?name=-bad", `{"Image":"busybox"}`, "", 400,
			`{"message":"Invalid container name (-bad), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"}` + "\n"},
		{"one-char name", "/containers/create?name=a", `{"Image":"busybox"}`, "", 400,
			`{"message":"Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"}` + "\n"},
		{"long name", "/containers/create?name=" + strings.Repeat("n", 256), `{"Image":"busybox"}`, "", 400,
			`{"message":"Invalid container name: 256 characters, the limit is 255"}` + "\n"},
		{"no body", "/containers/create", "", "", 400, `{"message":"config cannot be empty in order to create a container"}` + "\n"},
		{"empty object", "/containers/create", `{}`, "", 400, `{"message":"config cannot be empty in order to create a container"}` + "\n"},
		{"bad json", "/containers/create", `{"Image":`, "", 400, `{"message":"invalid JSON: unexpected EOF"}` + "\n"},
		{"wrong type", "/containers/create", `{"Image":3}`, "", 400, ""},
		{"not json", "/containers/create", `{"Image":"busybox"}`, "text/plain", 400,
			`{"message":"unsupported Content-Type header (text/plain): must be 'application/json'"}` + "\n"},
		{"ok", "/v1.47/containers/create?name=/web.1", `{"Image":"busybox","Cmd":["true"],"HostConfig":{"ReadonlyRootfs":true}}`, "", 201,
			`{"Id":"c0ffee","Warnings":[]}` + "\n"},
		{"ok without host config", "/containers/create", `{"Image":"busybox"}`, "", 201, `{"Id":"c0ffee","Warnings":[]}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fb, ts := newTestServer(t)
			var hdr []string
			if tc.contentType != "" {
				hdr = []string{"Content-Type", tc.contentType}
			}
			resp := do(t, ts, "POST", tc.path, tc.body, hdr...)
			assert.Equal(t, resp.status, tc.wantStatus, resp.body)
			if tc.wantBody != "" {
				assert.Equal(t, resp.body, tc.wantBody)
			}
			if tc.wantStatus == 201 {
				assert.Equal(t, fb.createCfg.Image, "busybox")
				assert.Assert(t, fb.createHC != nil)
			} else {
				assert.Equal(t, fb.lastCall(), "")
			}
		})
	}
	t.Run("default network and pids limit", func(t *testing.T) {
		tests := []struct {
			body      string
			wantMode  containertypes.NetworkMode
			wantPids  *int64
			wantEndpt []string
		}{
			{`{"Image":"busybox"}`, "bridge", nil, nil},
			{`{"Image":"busybox","HostConfig":{"NetworkMode":"default","PidsLimit":-1},"NetworkingConfig":{"EndpointsConfig":{"default":{"Aliases":["a"]}}}}`, "bridge", nil, []string{"bridge"}},
			{`{"Image":"busybox","HostConfig":{"NetworkMode":"host","PidsLimit":0}}`, "host", nil, nil},
			{`{"Image":"busybox","HostConfig":{"NetworkMode":"none","PidsLimit":100}}`, "none", ptr(int64(100)), nil},
		}
		for _, tc := range tests {
			fb, ts := newTestServer(t)
			resp := do(t, ts, "POST", "/containers/create", tc.body)
			assert.Equal(t, resp.status, 201, resp.body)
			assert.Equal(t, fb.createHC.NetworkMode, tc.wantMode)
			assert.DeepEqual(t, fb.createHC.PidsLimit, tc.wantPids)
			var endpoints []string
			for k := range fb.createNC.EndpointsConfig {
				endpoints = append(endpoints, k)
			}
			assert.DeepEqual(t, endpoints, tc.wantEndpt)
		}
	})
	t.Run("passes name and host config", func(t *testing.T) {
		fb, ts := newTestServer(t)
		do(t, ts, "POST", "/containers/create?name=web", `{"Image":"busybox","HostConfig":{"ReadonlyRootfs":true,"Tmpfs":{"/tmp":"size=64m"}}}`)
		assert.Equal(t, fb.lastCall(), "ContainerCreate web")
		assert.Check(t, fb.createHC.ReadonlyRootfs)
		assert.DeepEqual(t, fb.createHC.Tmpfs, map[string]string{"/tmp": "size=64m"})
	})
}

func TestStopParams(t *testing.T) {
	tests := []struct {
		path        string
		wantStatus  int
		wantTimeout *int
		wantSignal  string
	}{
		{"/containers/web/stop", 204, nil, ""},
		{"/containers/web/stop?t=5&signal=SIGINT", 204, ptr(5), "SIGINT"},
		{"/containers/web/stop?t=-1", 204, ptr(-1), ""},
		{"/v1.41/containers/web/stop?signal=SIGINT", 204, nil, ""}, // signal needs 1.42
		{"/containers/web/stop?t=soon", 400, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			fb, ts := newTestServer(t)
			resp := do(t, ts, "POST", tc.path, "")
			assert.Equal(t, resp.status, tc.wantStatus, resp.body)
			assert.DeepEqual(t, fb.stopTimeout, tc.wantTimeout)
			assert.Equal(t, fb.stopSignal, tc.wantSignal)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestStartRejectsBody(t *testing.T) {
	fb, ts := newTestServer(t)
	resp := do(t, ts, "POST", "/containers/web/start", `{"Binds":["/a:/b"]}`)
	assert.Equal(t, resp.status, 400)
	assert.Check(t, is.Contains(resp.body, "non-empty request body"))
	assert.Equal(t, fb.lastCall(), "")

	resp = do(t, ts, "POST", "/containers/web/start", `{}`)
	assert.Equal(t, resp.status, 204)
}

func TestContainerList(t *testing.T) {
	tests := []struct {
		query       string
		wantStatus  int
		wantOptions ListOptions
	}{
		{"", 200, ListOptions{}},
		{"?all=1&limit=3", 200, ListOptions{All: true, Limit: 3}},
		{`?filters={"label":["a=b","c"],"name":["web"]}`, 200, ListOptions{Filters: Filters{"label": {"a=b", "c"}, "name": {"web"}}}},
		{`?filters={"label":{"c":true,"a=b":true}}`, 200, ListOptions{Filters: Filters{"label": {"a=b", "c"}}}},
		{`?filters={"label":`, 400, ListOptions{}},
		{"?limit=x", 400, ListOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			fb, ts := newTestServer(t)
			resp := do(t, ts, "GET", "/containers/json"+strings.ReplaceAll(tc.query, `"`, "%22"), "")
			assert.Equal(t, resp.status, tc.wantStatus, resp.body)
			if tc.wantStatus != 200 {
				return
			}
			assert.DeepEqual(t, fb.listOpts, tc.wantOptions)
			var list []containertypes.Summary
			assert.NilError(t, json.Unmarshal([]byte(resp.body), &list))
			assert.Equal(t, len(list), 1)
			assert.Equal(t, list[0].ID, "c0ffee")
		})
	}
}

func TestParseFilters(t *testing.T) {
	tests := []struct {
		in      string
		want    Filters
		wantErr bool
	}{
		{"", nil, false},
		{"{}", Filters{}, false},
		{`{"label":["a=b"],"name":["x"]}`, Filters{"label": {"a=b"}, "name": {"x"}}, false},
		{`{"label":{"a=b":true},"status":{"running":true,"exited":true}}`, Filters{"label": {"a=b"}, "status": {"exited", "running"}}, false},
		{`{"label":"a=b"}`, nil, true},
		{`[1]`, nil, true},
		{`{`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseFilters(tc.in)
			if tc.wantErr {
				assert.Check(t, errdefs.IsInvalidArgument(err), "err: %v", err)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"0", time.Time{}, false},
		{"1700000000", time.Unix(1700000000, 0), false},
		{"1700000000.5", time.Unix(1700000000, 500000000), false},
		{"1700000000.000000001", time.Unix(1700000000, 1), false},
		{"1700000000.", time.Time{}, true},
		{"10m", time.Time{}, true},
		{"2024-01-01T00:00:00Z", time.Time{}, true},
		{"1.0000000001", time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTimestamp(tc.in)
			if tc.wantErr {
				assert.Check(t, errdefs.IsInvalidArgument(err))
				return
			}
			assert.NilError(t, err)
			assert.Check(t, got.Equal(tc.want), "got %v want %v", got, tc.want)
		})
	}
}

func TestContainerWait(t *testing.T) {
	t.Run("header flushed before the exit", func(t *testing.T) {
		fb, ts := newTestServer(t)
		result := make(chan containertypes.WaitResponse, 1)
		fb.waitFn = func(context.Context, string, containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
			return result, nil
		}
		respC := make(chan *http.Response, 1)
		go func() {
			resp, err := ts.Client().Post(ts.URL+"/v1.47/containers/web/wait?condition=next-exit", "", nil)
			if err == nil {
				respC <- resp
			}
		}()
		var resp *http.Response
		select {
		case resp = <-respC:
		case <-time.After(5 * time.Second):
			result <- containertypes.WaitResponse{} // let the server finish
			t.Fatal("no response header before the container exited")
		}
		defer resp.Body.Close()
		assert.Equal(t, resp.StatusCode, 200)
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/json")
		assert.Equal(t, fb.lastCall(), "ContainerWait web next-exit")

		result <- containertypes.WaitResponse{StatusCode: 3}
		b, err := io.ReadAll(resp.Body)
		assert.NilError(t, err)
		assert.Equal(t, string(b), `{"StatusCode":3}`+"\n")
	})
	t.Run("error message", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.waitFn = func(context.Context, string, containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
			ch := make(chan containertypes.WaitResponse, 1)
			ch <- containertypes.WaitResponse{StatusCode: 137, Error: &containertypes.WaitExitError{Message: "removal failed"}}
			return ch, nil
		}
		resp := do(t, ts, "POST", "/containers/web/wait?condition=removed", "")
		assert.Equal(t, resp.status, 200)
		assert.Equal(t, resp.body, `{"Error":{"Message":"removal failed"},"StatusCode":137}`+"\n")
	})
	t.Run("default condition", func(t *testing.T) {
		fb, ts := newTestServer(t)
		resp := do(t, ts, "POST", "/containers/web/wait", "")
		assert.Equal(t, resp.status, 200)
		assert.Equal(t, fb.lastCall(), "ContainerWait web not-running")
	})
	t.Run("invalid condition", func(t *testing.T) {
		fb, ts := newTestServer(t)
		resp := do(t, ts, "POST", "/containers/web/wait?condition=forever", "")
		assert.Equal(t, resp.status, 400)
		assert.Equal(t, resp.body, `{"message":"invalid condition: \"forever\""}`+"\n")
		assert.Equal(t, fb.lastCall(), "")
	})
	t.Run("no such container", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.err = errdefs.ErrNotFound.WithMessage("No such container: web")
		resp := do(t, ts, "POST", "/containers/web/wait", "")
		assert.Equal(t, resp.status, 404)
	})
	t.Run("client leaves", func(t *testing.T) {
		fb, ts := newTestServer(t)
		done := make(chan struct{})
		fb.waitFn = func(ctx context.Context, _ string, _ containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
			go func() { <-ctx.Done(); close(done) }()
			return make(chan containertypes.WaitResponse), nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/containers/web/wait", nil)
		resp, err := ts.Client().Do(req)
		assert.NilError(t, err)
		cancel()
		resp.Body.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the wait's context did not end when the client left")
		}
	})
}

// readFrames reads multiplexed frames until EOF and returns them as
// "stream:payload" strings.
func readFrames(t *testing.T, r io.Reader) []string {
	t.Helper()
	var frames []string
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return frames
			}
			t.Fatalf("read frame header: %v", err)
		}
		assert.DeepEqual(t, hdr[1:4], []byte{0, 0, 0})
		payload := make([]byte, binary.BigEndian.Uint32(hdr[4:]))
		_, err := io.ReadFull(r, payload)
		assert.NilError(t, err)
		frames = append(frames, fmt.Sprintf("%d:%s", hdr[0], payload))
	}
}

func TestContainerLogs(t *testing.T) {
	ts0 := time.Date(2024, 5, 6, 7, 8, 9, 120000000, time.UTC)
	messages := []LogMessage{
		{Stream: "stdout", Time: ts0, Line: []byte("hello\n")},
		{Stream: "stderr", Time: ts0, Line: []byte("oops\n")},
		{Stream: "stdout", Time: ts0, Line: []byte("partial")},
	}
	feed := func(tty bool) func(context.Context, string, LogsOptions) (<-chan LogMessage, bool, error) {
		return func(context.Context, string, LogsOptions) (<-chan LogMessage, bool, error) {
			ch := make(chan LogMessage, len(messages))
			for _, m := range messages {
				ch <- m
			}
			close(ch)
			return ch, tty, nil
		}
	}

	t.Run("multiplexed", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.logsFn = feed(false)
		resp, err := ts.Client().Get(ts.URL + "/v1.47/containers/web/logs?stdout=1&stderr=1&timestamps=1&tail=10&since=1700000000.5")
		assert.NilError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, resp.StatusCode, 200)
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.multiplexed-stream")
		frames := readFrames(t, resp.Body)
		assert.DeepEqual(t, frames, []string{
			"1:2024-05-06T07:08:09.120000000Z hello\n",
			"2:2024-05-06T07:08:09.120000000Z oops\n",
			"1:2024-05-06T07:08:09.120000000Z partial",
		})
		assert.Equal(t, fb.logsOpts.Tail, "10")
		assert.Check(t, fb.logsOpts.Since.Equal(time.Unix(1700000000, 500000000)))
		assert.Check(t, fb.logsOpts.Until.IsZero())
	})
	t.Run("stdout only", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.logsFn = feed(false)
		resp, err := ts.Client().Get(ts.URL + "/containers/web/logs?stdout=true")
		assert.NilError(t, err)
		defer resp.Body.Close()
		assert.DeepEqual(t, readFrames(t, resp.Body), []string{"1:hello\n", "1:partial"})
		assert.Equal(t, fb.logsOpts.Tail, "all")
	})
	t.Run("old API: framed but announced raw", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.logsFn = feed(false)
		resp, err := ts.Client().Get(ts.URL + "/v1.41/containers/web/logs?stderr=1")
		assert.NilError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.raw-stream")
		assert.DeepEqual(t, readFrames(t, resp.Body), []string{"2:oops\n"})
	})
	t.Run("tty is raw", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.logsFn = feed(true)
		resp := do(t, ts, "GET", "/containers/web/logs?stdout=1&stderr=1", "")
		assert.Equal(t, resp.status, 200)
		assert.Equal(t, resp.header.Get("Content-Type"), "application/vnd.docker.raw-stream")
		assert.Equal(t, resp.body, "hello\noops\npartial")
	})
	t.Run("no stream chosen", func(t *testing.T) {
		fb, ts := newTestServer(t)
		resp := do(t, ts, "GET", "/containers/web/logs?timestamps=1", "")
		assert.Equal(t, resp.status, 400)
		assert.Equal(t, resp.body, `{"message":"Bad parameters: you must choose at least one stream"}`+"\n")
		assert.Equal(t, fb.lastCall(), "")
	})
	t.Run("bad since", func(t *testing.T) {
		_, ts := newTestServer(t)
		resp := do(t, ts, "GET", "/containers/web/logs?stdout=1&since=yesterday", "")
		assert.Equal(t, resp.status, 400)
	})
	t.Run("no such container", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.err = errdefs.ErrNotFound.WithMessage("No such container: web")
		resp := do(t, ts, "GET", "/containers/web/logs?stdout=1", "")
		assert.Equal(t, resp.status, 404)
		assert.Equal(t, resp.body, `{"message":"No such container: web"}`+"\n")
	})
}

// rawAttach sends an attach request on a fresh connection and returns the
// connection and the parsed response head.
func rawAttach(t *testing.T, ts *httptest.Server, path string, upgrade bool, early string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	return rawPost(t, ts, path, upgrade, "Content-Type: text/plain\r\n", early)
}

// rawPost sends a POST with the extra header lines and payload (a body, or
// early stream data) on its own connection, asking for an upgrade if told,
// and returns the connection and the response.
func rawPost(t *testing.T, ts *httptest.Server, path string, upgrade bool, header, payload string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	assert.NilError(t, err)
	t.Cleanup(func() { conn.Close() })
	req := "POST " + path + " HTTP/1.1\r\nHost: docker\r\n" + header
	if upgrade {
		req += "Connection: Upgrade\r\nUpgrade: tcp\r\n"
	}
	_, err = io.WriteString(conn, req+"\r\n"+payload)
	assert.NilError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	assert.NilError(t, err)
	return conn, br, resp
}

// attachUntilDone is a backend attach session that takes its streams and
// lasts until its context ends, then closes ended.
func attachUntilDone(ended chan struct{}) func(context.Context, string, AttachOptions) error {
	return func(ctx context.Context, _ string, opts AttachOptions) error {
		if _, err := opts.GetStreams(false); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			close(ended)
		case <-time.After(10 * time.Second):
		}
		return nil
	}
}

func TestContainerAttach(t *testing.T) {
	// echo is a backend session: it greets on both streams, then echoes
	// stdin to stdout until stdin ends.
	echo := func(tty bool) func(context.Context, string, AttachOptions) error {
		return func(_ context.Context, _ string, opts AttachOptions) error {
			streams, err := opts.GetStreams(tty)
			if err != nil {
				return err
			}
			_, _ = io.WriteString(streams.Stdout, "hello\n")
			_, _ = io.WriteString(streams.Stderr, "warn\n")
			if streams.Stdin != nil {
				defer streams.Stdin.Close()
				b, err := io.ReadAll(streams.Stdin)
				if err != nil {
					return err
				}
				_, _ = streams.Stdout.Write(b)
			}
			return nil
		}
	}

	t.Run("upgrade, multiplexed, stdin", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.attachFn = echo(false)
		conn, br, resp := rawAttach(t, ts, "/v1.47/containers/web/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x", true, "early ")
		assert.Equal(t, resp.StatusCode, 101)
		assert.Equal(t, resp.Status, "101 UPGRADED")
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.multiplexed-stream")
		assert.Equal(t, resp.Header.Get("Connection"), "Upgrade")
		assert.Equal(t, resp.Header.Get("Upgrade"), "tcp")

		_, err := io.WriteString(conn, "input")
		assert.NilError(t, err)
		assert.NilError(t, conn.(*net.TCPConn).CloseWrite())

		assert.DeepEqual(t, readFrames(t, br), []string{"1:hello\n", "2:warn\n", "1:early input"})
		assert.Check(t, fb.attachOpt.Stdin && fb.attachOpt.Stdout && fb.attachOpt.Stderr && fb.attachOpt.Stream)
		assert.Equal(t, fb.attachOpt.DetachKeys, "ctrl-x")
	})
	t.Run("upgrade, tty is raw", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.attachFn = echo(true)
		_, br, resp := rawAttach(t, ts, "/containers/web/attach?stream=1&stdout=1&stderr=1", true, "")
		assert.Equal(t, resp.StatusCode, 101)
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.raw-stream")
		out, err := io.ReadAll(br)
		assert.NilError(t, err)
		assert.Equal(t, string(out), "hello\nwarn\n")
	})
	t.Run("old API announces raw", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.attachFn = echo(false)
		_, br, resp := rawAttach(t, ts, "/v1.41/containers/web/attach?stream=1&stdout=1", true, "")
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.raw-stream")
		assert.DeepEqual(t, readFrames(t, br), []string{"1:hello\n", "2:warn\n"})
	})
	t.Run("without upgrade", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.attachFn = echo(false)
		_, br, resp := rawAttach(t, ts, "/containers/web/attach?stream=1&stdout=1", false, "")
		assert.Equal(t, resp.StatusCode, 200)
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.multiplexed-stream")
		assert.DeepEqual(t, readFrames(t, br), []string{"1:hello\n", "2:warn\n"})
	})
	t.Run("no such container is a plain error", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.err = errdefs.ErrNotFound.WithMessage("No such container: web")
		_, br, resp := rawAttach(t, ts, "/containers/web/attach?stream=1&stdout=1", true, "")
		assert.Equal(t, resp.StatusCode, 404)
		b, err := io.ReadAll(io.LimitReader(br, resp.ContentLength))
		assert.NilError(t, err)
		assert.Equal(t, string(b), `{"message":"No such container: web"}`+"\n")
	})
	t.Run("shutdown ends the session", func(t *testing.T) {
		fb := &fakeBackend{}
		srv := New(fb, Options{Logger: slog.New(slog.DiscardHandler)})
		ts := httptest.NewServer(srv)
		defer ts.Close()
		ended := make(chan struct{})
		fb.attachFn = attachUntilDone(ended)
		rawAttach(t, ts, "/containers/web/attach?stream=1&stdout=1", true, "")
		srv.stopStreams()
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatal("attach session did not end on shutdown")
		}
	})
}

func TestEvents(t *testing.T) {
	t.Run("until in the past returns at once", func(t *testing.T) {
		_, ts := newTestServer(t)
		past := time.Now().Add(-time.Minute).Unix()
		resp := do(t, ts, "GET", fmt.Sprintf("/events?since=%d&until=%d", past-60, past), "")
		assert.Equal(t, resp.status, 200)
		assert.Equal(t, resp.header.Get("Content-Type"), "application/json")
		assert.Equal(t, resp.body, "")
	})
	t.Run("since after until", func(t *testing.T) {
		_, ts := newTestServer(t)
		resp := do(t, ts, "GET", "/events?since=200&until=100", "")
		assert.Equal(t, resp.status, 400)
		assert.Equal(t, resp.body, "{\"message\":\"`since` time (200) cannot be after `until` time (100)\"}\n")
	})
	t.Run("streams until the client leaves", func(t *testing.T) {
		_, ts := newTestServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/events", nil)
		resp, err := ts.Client().Do(req)
		assert.NilError(t, err)
		assert.Equal(t, resp.StatusCode, 200)
		cancel()
		resp.Body.Close()
	})
	t.Run("until in the future ends the stream", func(t *testing.T) {
		_, ts := newTestServer(t)
		until := time.Now().Add(300 * time.Millisecond)
		start := time.Now()
		resp := do(t, ts, "GET", fmt.Sprintf("/events?until=%d.%09d", until.Unix(), until.Nanosecond()), "")
		assert.Equal(t, resp.status, 200)
		assert.Check(t, time.Since(start) < 5*time.Second)
	})
}

func TestReadHeaderTimeout(t *testing.T) {
	fb := &fakeBackend{events: make(chan eventtypes.Message, 1)}
	srv := New(fb, Options{Logger: slog.New(slog.DiscardHandler), ReadHeaderTimeout: 200 * time.Millisecond})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	go func() { _ = srv.Serve(l) }()
	defer srv.Shutdown(context.Background())

	// A stream opened before...
	resp, err := http.Get("http://" + l.Addr().String() + "/events")
	assert.NilError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, resp.StatusCode, 200)

	// ...a client that never sends its headers is disconnected...
	silent, err := net.Dial("tcp", l.Addr().String())
	assert.NilError(t, err)
	defer silent.Close()
	assert.NilError(t, silent.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = silent.Read(make([]byte, 1))
	assert.Assert(t, errors.Is(err, io.EOF), "the silent connection was not closed: %v", err)

	// ...while the stream, older than the header timeout, still delivers.
	fb.events <- eventtypes.Message{Type: eventtypes.ContainerEventType, Action: "start", Actor: eventtypes.Actor{ID: "c1"}}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	assert.NilError(t, err)
	assert.Check(t, strings.Contains(line, `"Action":"start"`), line)
}

func TestServeAndShutdown(t *testing.T) {
	srv := New(&fakeBackend{}, Options{Logger: slog.New(slog.DiscardHandler)})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	// A streaming request must not keep Shutdown waiting.
	resp, err := http.Get("http://" + l.Addr().String() + "/events")
	assert.NilError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, resp.StatusCode, 200)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assert.NilError(t, srv.Shutdown(ctx))
	assert.NilError(t, <-served)
}

func TestAttachClientHangup(t *testing.T) {
	// Over a unix socket, a client that closes its connection ends a session
	// that does not read stdin.
	sock := t.TempDir() + "/api.sock"
	l, err := net.Listen("unix", sock)
	assert.NilError(t, err)
	fb := &fakeBackend{}
	srv := New(fb, Options{Logger: slog.New(slog.DiscardHandler)})
	go func() { _ = srv.Serve(l) }()
	defer srv.Shutdown(context.Background())

	ended := make(chan struct{})
	fb.attachFn = attachUntilDone(ended)
	conn, err := net.Dial("unix", sock)
	assert.NilError(t, err)
	_, err = io.WriteString(conn, "POST /containers/web/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	assert.NilError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	assert.NilError(t, err)
	assert.Equal(t, resp.StatusCode, 101)

	// A half-close ("no more input") must not end the session...
	assert.NilError(t, conn.(*net.UnixConn).CloseWrite())
	select {
	case <-ended:
		t.Fatal("session ended on a half-close")
	case <-time.After(600 * time.Millisecond):
	}
	// ...closing the connection does.
	conn.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end when the client hung up")
	}
}

func TestJSONBodyLimit(t *testing.T) {
	fb, ts := newTestServer(t)
	big := `{"Image":"busybox","Env":["X=` + strings.Repeat("x", httputils.MaxJSONBody) + `"]}`
	resp := do(t, ts, "POST", "/containers/create", big)
	assert.Equal(t, resp.status, http.StatusRequestEntityTooLarge)
	assert.Equal(t, resp.body, `{"message":"request body is too large: a JSON request body is limited to 10 MiB"}`+"\n")
	assert.Equal(t, fb.lastCall(), "", "the backend was not called")

	// Streams are not JSON and have no limit.
	fb.loadFn = func(r io.Reader) ([]string, error) {
		n, err := io.Copy(io.Discard, r)
		return []string{fmt.Sprint(n)}, err
	}
	resp = do(t, ts, "POST", "/images/load", big)
	assert.Equal(t, resp.status, 200)
	assert.Check(t, strings.Contains(resp.body, fmt.Sprint(len(big))), resp.body)
}
