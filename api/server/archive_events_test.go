package server

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func newRichServer(t *testing.T) (*fakeBackend, *httptest.Server) {
	t.Helper()
	fb, ts := newTestServer(t)
	fb.pastEvents = []eventtypes.Message{{Type: eventtypes.ContainerEventType, Action: "create",
		Actor: eventtypes.Actor{ID: "c1", Attributes: map[string]string{"image": "busybox"}}, Scope: "local", Time: 1, TimeNano: 1e9}}
	fb.events = make(chan eventtypes.Message, 1)
	return fb, ts
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
	rb.netList = []network.Summary{{Network: network.Network{Name: "n"}}}
	resp = do(t, ts, "GET", "/networks", "")
	assert.Equal(t, resp.status, 200)
	assert.Check(t, is.Contains(resp.body, `"Name":"n"`))
}
