package server

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// richBackend adds the optional archive, events and network interfaces to
// the fake backend.
type richBackend struct {
	*fakeBackend
	extracted  string
	extractArg string
	events     chan eventtypes.Message
	netReq     network.CreateRequest
}

func (b *richBackend) ContainerStatPath(ctx context.Context, name, p string) (*containertypes.PathStat, error) {
	if p == "/missing" {
		return nil, errdefs.ErrNotFound.WithMessage("Could not find the file /missing in container " + name)
	}
	return &containertypes.PathStat{Name: "f.txt", Size: 3, Mode: 0o644}, nil
}

func (b *richBackend) ContainerArchivePath(ctx context.Context, name, p string) (io.ReadCloser, *containertypes.PathStat, error) {
	st, err := b.ContainerStatPath(ctx, name, p)
	if err != nil {
		return nil, nil, err
	}
	return io.NopCloser(strings.NewReader("TAR")), st, nil
}

func (b *richBackend) ContainerExtractToDir(ctx context.Context, name, p string, copyUIDGID, noOverwrite bool, content io.Reader) error {
	data, _ := io.ReadAll(content)
	b.extracted = string(data)
	b.extractArg = name + " " + p
	if p == "/etc" {
		return errdefs.ErrInvalidArgument.WithMessage("container rootfs is marked read-only")
	}
	return nil
}

func (b *richBackend) Events(ctx context.Context, since, until time.Time, f Filters) ([]eventtypes.Message, <-chan eventtypes.Message, func(), error) {
	if _, ok := f["bogus"]; ok {
		return nil, nil, nil, errdefs.ErrInvalidArgument.WithMessage("invalid filter 'bogus'")
	}
	past := []eventtypes.Message{{Type: eventtypes.ContainerEventType, Action: "create",
		Actor: eventtypes.Actor{ID: "c1", Attributes: map[string]string{"image": "busybox"}}, Scope: "local", Time: 1, TimeNano: 1e9}}
	return past, b.events, func() {}, nil
}

func (b *richBackend) NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	b.netReq = req
	return network.CreateResponse{ID: "n1"}, nil
}
func (b *richBackend) NetworkList(ctx context.Context, f Filters) ([]network.Summary, error) {
	return []network.Summary{{Network: network.Network{Name: "n"}}}, nil
}
func (b *richBackend) NetworkInspect(ctx context.Context, ref string) (*network.Inspect, error) {
	return nil, errdefs.ErrNotFound.WithMessage("network " + ref + " not found")
}
func (b *richBackend) NetworkRemove(ctx context.Context, ref string) error {
	return errdefs.ErrPermissionDenied.WithMessage(ref + " is a pre-defined network and cannot be removed")
}
func (b *richBackend) NetworkConnect(ctx context.Context, ref, c string, ep *network.EndpointSettings) error {
	return nil
}
func (b *richBackend) NetworkDisconnect(ctx context.Context, ref, c string, force bool) error {
	return nil
}

func newRichServer(t *testing.T) (*richBackend, *httptest.Server) {
	t.Helper()
	rb := &richBackend{fakeBackend: &fakeBackend{}, events: make(chan eventtypes.Message, 1)}
	ts := httptest.NewServer(New(rb, Options{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(ts.Close)
	return rb, ts
}

func TestArchiveRoutes(t *testing.T) {
	rb, ts := newRichServer(t)

	resp := do(t, ts, "HEAD", "/v1.47/containers/web/archive?path=/f.txt", "")
	assert.Equal(t, resp.status, 200)
	raw, err := base64.StdEncoding.DecodeString(resp.header.Get("X-Docker-Container-Path-Stat"))
	assert.NilError(t, err)
	var st containertypes.PathStat
	assert.NilError(t, json.Unmarshal(raw, &st))
	assert.Equal(t, st.Name, "f.txt")
	assert.Equal(t, st.Size, int64(3))

	resp = do(t, ts, "GET", "/containers/web/archive?path=/f.txt", "")
	assert.Equal(t, resp.status, 200)
	assert.Equal(t, resp.body, "TAR")
	assert.Equal(t, resp.header.Get("Content-Type"), "application/x-tar")
	assert.Check(t, resp.header.Get("X-Docker-Container-Path-Stat") != "")

	resp = do(t, ts, "GET", "/containers/web/archive?path=/missing", "")
	assert.Equal(t, resp.status, 404)
	assert.Equal(t, resp.body, `{"message":"Could not find the file /missing in container web"}`+"\n")
	resp = do(t, ts, "GET", "/containers/web/archive", "")
	assert.Equal(t, resp.status, 400)

	req, _ := http.NewRequest("PUT", ts.URL+"/containers/web/archive?path=/tmp&noOverwriteDirNonDir=true", strings.NewReader("DATA"))
	r, err := ts.Client().Do(req)
	assert.NilError(t, err)
	r.Body.Close()
	assert.Equal(t, r.StatusCode, 200)
	assert.Equal(t, rb.extracted, "DATA")
	assert.Equal(t, rb.extractArg, "web /tmp")

	req, _ = http.NewRequest("PUT", ts.URL+"/containers/web/archive?path=/etc", strings.NewReader("DATA"))
	r, err = ts.Client().Do(req)
	assert.NilError(t, err)
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	assert.Equal(t, r.StatusCode, 400)
	assert.Equal(t, string(body), `{"message":"container rootfs is marked read-only"}`+"\n")
}

func TestEventsRoute(t *testing.T) {
	rb, ts := newRichServer(t)
	resp := do(t, ts, "GET", `/events?filters={"bogus":{"x":true}}`, "")
	assert.Equal(t, resp.status, 400)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/events?since=1", nil)
	r, err := ts.Client().Do(req)
	assert.NilError(t, err)
	defer r.Body.Close()
	assert.Equal(t, r.Header.Get("Content-Type"), "application/json")
	br := bufio.NewReader(r.Body)
	line, err := br.ReadString('\n')
	assert.NilError(t, err)
	// Legacy fields first, as Docker sends them.
	assert.Check(t, is.Contains(line, `{"status":"create","id":"c1","from":"busybox","Type":"container","Action":"create"`))
	assert.Check(t, is.Contains(line, `"scope":"local","time":1,"timeNano":1000000000}`))

	rb.events <- eventtypes.Message{Type: eventtypes.NetworkEventType, Action: "connect", Actor: eventtypes.Actor{ID: "n1"}, Scope: "local", Time: 2, TimeNano: 2e9}
	line, err = br.ReadString('\n')
	assert.NilError(t, err)
	assert.Check(t, is.Contains(line, `{"Type":"network","Action":"connect"`), "no legacy fields for networks")
}

func TestNetworkRoutes(t *testing.T) {
	rb, ts := newRichServer(t)
	resp := do(t, ts, "POST", "/networks/create", `{"Name":"app","CheckDuplicate":true,"Labels":{"a":"b"}}`)
	assert.Equal(t, resp.status, 201)
	assert.Equal(t, resp.body, `{"Id":"n1","Warning":""}`+"\n")
	assert.Equal(t, rb.netReq.Labels["a"], "b")

	resp = do(t, ts, "DELETE", "/networks/bridge", "")
	assert.Equal(t, resp.status, 403)
	assert.Equal(t, resp.body, `{"message":"bridge is a pre-defined network and cannot be removed"}`+"\n")
	resp = do(t, ts, "GET", "/networks/nope", "")
	assert.Equal(t, resp.status, 404)
	resp = do(t, ts, "POST", "/networks/app/connect", `{"Container":"web"}`)
	assert.Equal(t, resp.status, 200)
	resp = do(t, ts, "POST", "/networks/app/disconnect", `{}`)
	assert.Equal(t, resp.status, 400)
	resp = do(t, ts, "GET", "/networks", "")
	assert.Equal(t, resp.status, 200)
	assert.Check(t, is.Contains(resp.body, `"Name":"n"`))

	// A backend without networks refuses changes.
	_, plain := newTestServer(t)
	resp = do(t, plain, "POST", "/networks/create", `{"Name":"x"}`)
	assert.Equal(t, resp.status, 501)
}
