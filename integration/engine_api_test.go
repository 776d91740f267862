package integration

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestEngineAPISystem: _ping headers, version negotiation over the whole
// supported range, /version and /info.
func TestEngineAPISystem(t *testing.T) {
	d := harness.NewWithImage(t)

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r := d.API(t, method, "/_ping", nil)
		assert.Equal(t, r.Status, http.StatusOK)
		assert.Equal(t, r.Header.Get("Api-Version"), "1.47")
		assert.Equal(t, r.Header.Get("Docker-Experimental"), "false")
		assert.Equal(t, r.Header.Get("Ostype"), "linux")
		assert.Assert(t, is.Contains(r.Header.Get("Server"), "Berth/"))
		if method == http.MethodGet {
			assert.Equal(t, string(r.Body), "OK")
		}
	}

	for _, v := range []string{"/v1.24", "/v1.30", "/v1.41", "/v1.47", ""} {
		var ver system.VersionResponse
		d.API(t, "GET", v+"/version", nil).Decode(t, http.StatusOK, &ver)
		assert.Equal(t, ver.APIVersion, "1.47", v)
		assert.Equal(t, ver.MinAPIVersion, "1.24", v)
		assert.Equal(t, ver.Os, "linux")
		d.API(t, "GET", v+"/containers/json", nil).Decode(t, http.StatusOK, nil)
	}
	for _, v := range []string{"/v1.23", "/v1.48", "/v2.0"} {
		r := d.API(t, "GET", v+"/version", nil)
		assert.Equal(t, r.Status, http.StatusBadRequest, "%s: %s", v, r.Body)
		assert.Assert(t, r.Message() != "", "%s: error without a message: %s", v, r.Body)
	}
	r := d.API(t, "GET", "/v1.48/containers/json", nil)
	assert.Equal(t, r.Status, http.StatusBadRequest)
	assert.Assert(t, is.Contains(r.Message(), "1.47"))

	d.OK(t, "run", "-d", "--name", "up", "--network", "none", "busybox", "sleep", "1000")
	d.OK(t, "create", "--name", "down", "--network", "none", "busybox", "true")
	var info system.Info
	d.API(t, "GET", "/info", nil).Decode(t, http.StatusOK, &info)
	assert.Equal(t, info.Containers, 2)
	assert.Equal(t, info.ContainersRunning, 1)
	assert.Equal(t, info.ContainersStopped, 1)
	assert.Equal(t, info.Images, 1)
	assert.Equal(t, info.DockerRootDir, d.DataRoot)
	assert.Equal(t, info.OSType, "linux")
	assert.Equal(t, info.DefaultRuntime, d.DefaultRuntime(t))

	out := d.OK(t, "version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}")
	assert.Equal(t, out, "1.47 linux")
	out = d.OK(t, "info", "--format", "{{.ContainersRunning}} {{.Images}}")
	assert.Equal(t, out, "1 1")
}

// TestEngineAPIBadInput: bad requests get Docker's status and a message,
// and leave no container, directory, volume or mount behind.
func TestEngineAPIBadInput(t *testing.T) {
	d := harness.NewWithImage(t)
	d.OK(t, "create", "--name", "taken", "--network", "none", "busybox", "true")
	before := d.Snapshot(t)

	create := func(query string, body any) harness.Response {
		return d.API(t, "POST", "/v1.47/containers/create"+query, body)
	}
	cfg := func(mod func(c map[string]any)) map[string]any {
		c := map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "HostConfig": map[string]any{"NetworkMode": "none"}}
		if mod != nil {
			mod(c)
		}
		return c
	}
	hc := func(kv ...any) func(map[string]any) {
		return func(c map[string]any) {
			h := c["HostConfig"].(map[string]any)
			for i := 0; i < len(kv); i += 2 {
				h[kv[i].(string)] = kv[i+1]
			}
		}
	}
	for _, tc := range []struct {
		name   string
		query  string
		body   any
		status int
		msg    string
	}{
		{"unknown image", "", map[string]any{"Image": "nope"}, 404, "No such image: nope:latest"},
		{"unknown image tag", "", map[string]any{"Image": "busybox:1.0"}, 404, "No such image: busybox:1.0"},
		{"name conflict", "?name=taken", cfg(hc("Binds", []string{"/anon", "fresh-volume:/named"})), 409, `"/taken" is already in use`},
		{"bad JSON", "", `{"Image": "busybox",`, 400, ""},
		{"JSON of the wrong type", "", `{"Image": 42}`, 400, ""},
		{"bad name", "?name=a%2Fb", cfg(nil), 400, "Invalid container name"},
		{"duplicate mount point", "", cfg(hc("Binds", []string{"/tmp:/data", "vol:/data"})), 400, "Duplicate mount point: /data"},
		{"duplicate tmpfs and bind", "", cfg(hc("Binds", []string{"/tmp:/data"}, "Tmpfs", map[string]string{"/data": ""})), 400, "Duplicate mount point: /data"},
		{"relative mount", "", cfg(hc("Binds", []string{"/tmp:data"})), 400, "invalid volume specification"},
		{"bind source missing", "", cfg(hc("Mounts", []map[string]any{{"Type": "bind", "Source": "/no/such/dir", "Target": "/x"}})), 400, "bind source path does not exist"},
		{"bad tmpfs option", "", cfg(hc("Tmpfs", map[string]string{"/run": "size=lots"})), 400, "size"},
		{"unknown network", "", cfg(hc("NetworkMode", "nosuchnet")), 404, "network nosuchnet not found"},
		{"unknown network container", "", cfg(hc("NetworkMode", "container:foo")), 404, "No such container: foo"},
		{"relative working dir", "", cfg(func(c map[string]any) { c["WorkingDir"] = "rel" }), 400, "absolute path"},
		{"unknown user", "", cfg(func(c map[string]any) { c["User"] = "nosuchuser" }), 400, "nosuchuser"},
		{"unknown runtime", "", cfg(hc("Runtime", "no-such-runtime")), 400, "no-such-runtime"},
		{"no image", "", map[string]any{"Cmd": []string{"true"}}, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := create(tc.query, tc.body)
			assert.Equal(t, r.Status, tc.status, "body: %s", r.Body)
			assert.Equal(t, r.Header.Get("Content-Type"), "application/json")
			assert.Assert(t, r.Message() != "", "no message: %s", r.Body)
			if tc.msg != "" {
				assert.Assert(t, is.Contains(r.Message(), tc.msg))
			}
		})
	}
	r := d.API(t, "POST", "/v1.99/containers/create", cfg(nil))
	assert.Equal(t, r.Status, http.StatusBadRequest, "unknown API version: %s", r.Body)

	// The CLI: 125 and the daemon's message, nothing left either.
	res := d.Berth(t, "run", "--name", "taken", "--network", "none", "-v", "/anon2", "busybox", "true")
	assert.Equal(t, res.ExitCode, 125, res.Combined())
	assert.Assert(t, is.Contains(res.Stderr, "is already in use"))
	res = d.Berth(t, "run", "--network", "none", "--pull", "never", "no-such-image")
	assert.Equal(t, res.ExitCode, 125, res.Combined())
	assert.Assert(t, is.Contains(res.Stderr, "No such image"))
	d.AssertUnchanged(t, before, "after bad requests")

	// Errors on existing resources.
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/containers/nope/json", 404},
		{"POST", "/containers/nope/start", 404},
		{"POST", "/containers/nope/stop", 404},
		{"POST", "/containers/nope/kill", 404},
		{"POST", "/containers/nope/wait", 404},
		{"GET", "/containers/nope/logs?stdout=1", 404},
		{"DELETE", "/containers/nope", 404},
		{"GET", "/images/nope/json", 404},
		{"DELETE", "/images/nope", 404},
		{"GET", "/volumes/nope", 404},
		{"DELETE", "/volumes/nope", 404},
		{"POST", "/containers/taken/kill", 409},
		{"POST", "/containers/taken/resize?h=10&w=10", 409},
		{"POST", "/containers/taken/wait?condition=sometime", 400},
		{"GET", "/containers/taken/logs", 400},
		{"POST", "/containers/taken/kill?signal=NOSUCHSIG", 400},
	} {
		r := d.API(t, tc.method, "/v1.47"+tc.path, nil)
		assert.Equal(t, r.Status, tc.status, "%s %s: %s", tc.method, tc.path, r.Body)
		assert.Assert(t, r.Message() != "", "%s %s: no message: %s", tc.method, tc.path, r.Body)
	}
	r = d.API(t, "GET", "/containers/nope/json", nil)
	assert.Equal(t, r.Message(), "No such container: nope")

	d.OK(t, "run", "-d", "--name", "running", "--network", "none", "busybox", "sleep", "1000")
	r = d.API(t, "DELETE", "/containers/running", nil)
	assert.Equal(t, r.Status, http.StatusConflict, "%s", r.Body)
	assert.Assert(t, is.Contains(r.Message(), "container is running"))
	r = d.API(t, "POST", "/containers/running/start", nil)
	assert.Equal(t, r.Status, http.StatusNotModified)
	r = d.API(t, "DELETE", "/images/busybox", nil)
	assert.Equal(t, r.Status, http.StatusConflict, "removing an image in use: %s", r.Body)
	vol := d.API(t, "POST", "/volumes/create", volume.CreateRequest{Name: "used"})
	assert.Equal(t, vol.Status, http.StatusCreated, "%s", vol.Body)
	d.OK(t, "create", "--name", "user", "--network", "none", "-v", "used:/data", "busybox", "true")
	r = d.API(t, "DELETE", "/volumes/used", nil)
	assert.Equal(t, r.Status, http.StatusConflict, "removing a volume in use: %s", r.Body)
}

// TestEngineAPIContainers: create with ?name=, list with filters and limit,
// inspect by name and ID prefix, wait conditions, kill with a signal,
// restart, delete with force and v.
func TestEngineAPIContainers(t *testing.T) {
	d := harness.NewWithImage(t)
	var created containertypes.CreateResponse
	d.API(t, "POST", "/v1.24/containers/create?name=api-one", map[string]any{
		"Image": "busybox", "Cmd": []string{"sh", "-c", "trap 'echo got-usr1; exit 9' USR1; while true; do sleep 0.05; done"},
		"Labels":     map[string]string{"tier": "front", "app": "one"},
		"HostConfig": map[string]any{"NetworkMode": "none"},
	}).Decode(t, http.StatusCreated, &created)
	assert.Equal(t, len(created.ID), 64)
	d.API(t, "POST", "/containers/create?name=api-two", map[string]any{
		"Image": "docker.io/library/busybox:latest", "Cmd": []string{"true"}, "Labels": map[string]string{"tier": "back"},
		"HostConfig": map[string]any{"NetworkMode": "none"},
	}).Decode(t, http.StatusCreated, nil)

	var inspect containertypes.InspectResponse
	d.API(t, "GET", "/containers/"+created.ID[:7]+"/json", nil).Decode(t, http.StatusOK, &inspect)
	assert.Equal(t, inspect.Name, "/api-one")
	assert.Equal(t, inspect.State.Status, containertypes.StateCreated)
	assert.Equal(t, inspect.Config.Labels["tier"], "front")

	d.API(t, "POST", "/containers/api-one/start", nil).Decode(t, http.StatusNoContent, nil)

	list := func(query string) []string {
		var cs []containertypes.Summary
		d.API(t, "GET", "/containers/json"+query, nil).Decode(t, http.StatusOK, &cs)
		var names []string
		for _, c := range cs {
			names = append(names, strings.Join(c.Names, ","))
		}
		return names
	}
	filter := func(f string) string { return url.QueryEscape(f) }
	assert.DeepEqual(t, list(""), []string{"/api-one"})
	assert.DeepEqual(t, list("?all=1"), []string{"/api-two", "/api-one"})
	assert.DeepEqual(t, list("?limit=1"), []string{"/api-two"})
	assert.DeepEqual(t, list("?all=1&filters="+filter(`{"label":["tier=back"]}`)), []string{"/api-two"})
	assert.DeepEqual(t, list("?all=1&filters="+filter(`{"label":["app"]}`)), []string{"/api-one"})
	assert.DeepEqual(t, list("?all=1&filters="+filter(`{"name":["api-t"]}`)), []string{"/api-two"})
	assert.DeepEqual(t, list("?all=1&filters="+filter(`{"id":["`+created.ID[:10]+`"]}`)), []string{"/api-one"})
	assert.DeepEqual(t, list("?all=1&filters="+filter(`{"status":["created"]}`)), []string{"/api-two"})
	assert.DeepEqual(t, list("?all=1&filters="+filter(`{"status":["running"]}`)), []string{"/api-one"})
	r := d.API(t, "GET", "/containers/json?filters="+filter(`{"status":["sleepy"]}`), nil)
	assert.Equal(t, r.Status, http.StatusBadRequest, "%s", r.Body)
	r = d.API(t, "GET", "/containers/json?filters="+filter(`{"colour":["red"]}`), nil)
	assert.Equal(t, r.Status, http.StatusBadRequest, "%s", r.Body)

	// The same through the CLI.
	assert.Equal(t, d.OK(t, "ps", "-a", "--filter", "label=tier=front", "--format", "{{.Names}}"), "api-one")
	assert.Equal(t, d.OK(t, "ps", "-a", "--filter", "status=created", "--format", "{{.Names}} {{.Label \"tier\"}}"), "api-two back")
	assert.Equal(t, d.OK(t, "ps", "-q"), created.ID[:12])

	// wait next-exit blocks until the kill ends the run; kill takes a signal.
	waitDone := make(chan harness.Response, 1)
	go func() { waitDone <- d.API(t, "POST", "/containers/api-one/wait?condition=next-exit", nil) }()
	select {
	case r := <-waitDone:
		t.Fatalf("wait returned while the container runs: %d %s", r.Status, r.Body)
	case <-time.After(200 * time.Millisecond):
	}
	d.API(t, "POST", "/containers/api-one/kill?signal=SIGUSR1", nil).Decode(t, http.StatusNoContent, nil)
	select {
	case r := <-waitDone:
		var w containertypes.WaitResponse
		r.Decode(t, http.StatusOK, &w)
		assert.Equal(t, w.StatusCode, int64(9))
	case <-time.After(20 * time.Second):
		t.Fatal("wait?condition=next-exit did not return after the container exited")
	}
	d.WaitLogs(t, "api-one", "got-usr1")
	var w containertypes.WaitResponse
	d.API(t, "POST", "/containers/api-one/wait", nil).Decode(t, http.StatusOK, &w)
	assert.Equal(t, w.StatusCode, int64(9), "not-running on an exited container returns at once")

	// restart starts an exited container again; the count is not a restart
	// policy's, but the run is new.
	d.API(t, "POST", "/containers/api-one/restart?t=1", nil).Decode(t, http.StatusNoContent, nil)
	d.API(t, "GET", "/containers/api-one/json", nil).Decode(t, http.StatusOK, &inspect)
	assert.Equal(t, inspect.State.Status, containertypes.StateRunning)
	firstPid := inspect.State.Pid
	d.API(t, "POST", "/containers/api-one/restart?t=0", nil).Decode(t, http.StatusNoContent, nil)
	d.API(t, "GET", "/containers/api-one/json", nil).Decode(t, http.StatusOK, &inspect)
	assert.Equal(t, inspect.State.Status, containertypes.StateRunning)
	assert.Assert(t, inspect.State.Pid != firstPid, "restart of a running container must start a new process")

	// removed: wait returns once the force removal is done.
	removed := make(chan harness.Response, 1)
	go func() { removed <- d.API(t, "POST", "/containers/api-one/wait?condition=removed", nil) }()
	select {
	case r := <-removed:
		t.Fatalf("wait removed returned early: %d %s", r.Status, r.Body)
	case <-time.After(200 * time.Millisecond):
	}
	d.API(t, "DELETE", "/containers/api-one?force=1&v=1", nil).Decode(t, http.StatusNoContent, nil)
	select {
	case r := <-removed:
		assert.Equal(t, r.Status, http.StatusOK, "%s", r.Body)
	case <-time.After(20 * time.Second):
		t.Fatal("wait?condition=removed did not return after the removal")
	}
	_, err := os.Stat(filepath.Join(d.DataRoot, "containers", created.ID))
	assert.Assert(t, os.IsNotExist(err), "removed container left its directory")
	assert.DeepEqual(t, list("?all=1"), []string{"/api-two"})
}

// TestEngineAPIAttachLogs: attach hijacks the connection (101 UPGRADED),
// carries stdin in and framed stdout/stderr out; logs honour stdout,
// stderr, timestamps, tail, since and follow; resize reaches the tty.
func TestEngineAPIAttachLogs(t *testing.T) {
	d := harness.NewWithImage(t)
	var created containertypes.CreateResponse
	d.API(t, "POST", "/containers/create?name=att", map[string]any{
		"Image": "busybox", "Cmd": []string{"sh", "-c", "read line; echo got:$line; echo oops >&2; exit 4"},
		"OpenStdin": true, "StdinOnce": true, "AttachStdin": true, "AttachStdout": true, "AttachStderr": true,
		"HostConfig": map[string]any{"NetworkMode": "none"},
	}).Decode(t, http.StatusCreated, &created)

	conn, err := net.Dial("unix", d.Sock)
	assert.NilError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /v1.47/containers/att/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"+
		"Host: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n")
	assert.NilError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	assert.NilError(t, err)
	assert.Equal(t, resp.StatusCode, http.StatusSwitchingProtocols)
	assert.Equal(t, resp.Status, "101 UPGRADED")
	assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.multiplexed-stream")
	assert.Equal(t, resp.Header.Get("Upgrade"), "tcp")

	d.API(t, "POST", "/containers/att/start", nil).Decode(t, http.StatusNoContent, nil)
	_, err = io.WriteString(conn, "hello\n")
	assert.NilError(t, err)
	assert.NilError(t, conn.(*net.UnixConn).CloseWrite())
	assert.NilError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	data, err := io.ReadAll(br)
	assert.NilError(t, err)
	stdout, stderr := harness.Frames(t, data)
	assert.Equal(t, stdout, "got:hello\n")
	assert.Equal(t, stderr, "oops\n")
	var w containertypes.WaitResponse
	d.API(t, "POST", "/containers/att/wait", nil).Decode(t, http.StatusOK, &w)
	assert.Equal(t, w.StatusCode, int64(4))

	// Logs of the exited container.
	logs := func(query string) (string, string) {
		r := d.API(t, "GET", "/containers/att/logs?"+query, nil)
		assert.Equal(t, r.Status, http.StatusOK, "%s", r.Body)
		return harness.Frames(t, r.Body)
	}
	o, e := logs("stdout=1&stderr=1")
	assert.Equal(t, o+"|"+e, "got:hello\n|oops\n")
	o, e = logs("stdout=1")
	assert.Equal(t, o+"|"+e, "got:hello\n|")
	o, e = logs("stderr=1")
	assert.Equal(t, o+"|"+e, "|oops\n")
	o, _ = logs("stdout=1&timestamps=1")
	ts, line, ok := strings.Cut(o, " ")
	assert.Assert(t, ok, o)
	_, err = time.Parse(time.RFC3339Nano, ts)
	assert.NilError(t, err, "timestamp %q", ts)
	assert.Equal(t, line, "got:hello\n")
	o, e = logs("stdout=1&stderr=1&since=" + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	assert.Equal(t, o+e, "", "since in the future")
	o, e = logs("stdout=1&stderr=1&since=" + strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10))
	assert.Equal(t, o+e, "got:hello\noops\n", "since an hour ago")
	assert.Equal(t, d.OK(t, "logs", "--since", time.Now().Add(time.Hour).Format(time.RFC3339), "att"), "")
	assert.Equal(t, d.OK(t, "logs", "--since", "1h", "att"), "got:hello")

	// tail and follow through the CLI, on a container still writing.
	ctl := t.TempDir()
	d.OK(t, "run", "-d", "--name", "talker", "--network", "none", "-v", ctl+":/ctl", "busybox", "sh", "-c",
		"for i in 1 2 3 4 5; do echo line$i; done; while [ ! -f /ctl/go ]; do sleep 0.05; done; echo last >&2")
	d.WaitLogs(t, "talker", "line5")
	assert.Equal(t, d.OK(t, "logs", "--tail", "2", "talker"), "line4\nline5")
	o, _ = harness.Frames(t, d.API(t, "GET", "/containers/talker/logs?stdout=1&tail=1", nil).Body)
	assert.Equal(t, o, "line5\n")
	res := d.Berth(t, "logs", "-t", "--tail", "1", "talker")
	assert.Assert(t, strings.HasSuffix(strings.TrimSpace(res.Stdout), " line5"), res.Stdout)
	_, err = time.Parse(time.RFC3339Nano, strings.Fields(res.Stdout)[0])
	assert.NilError(t, err)

	followed := make(chan harness.Result, 1)
	go func() { followed <- d.Berth(t, "logs", "-f", "--tail", "1", "talker") }()
	select {
	case res := <-followed:
		t.Fatalf("logs -f returned while the container runs: %s", res.Combined())
	case <-time.After(300 * time.Millisecond):
	}
	assert.NilError(t, os.WriteFile(filepath.Join(ctl, "go"), nil, 0o644))
	select {
	case res := <-followed:
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "line5\n")
		assert.Equal(t, res.Stderr, "last\n")
	case <-time.After(20 * time.Second):
		t.Fatal("logs -f did not end when the container exited")
	}

	// resize reaches the container's terminal.
	d.API(t, "POST", "/containers/create?name=tty", map[string]any{
		"Image": "busybox", "Tty": true, "Cmd": []string{"sh", "-c", `until [ "$(stty size 2>/dev/null)" = "40 100" ]; do sleep 0.05; done; echo resized`},
		"HostConfig": map[string]any{"NetworkMode": "none"},
	}).Decode(t, http.StatusCreated, nil)
	d.API(t, "POST", "/containers/tty/start", nil).Decode(t, http.StatusNoContent, nil)
	d.API(t, "POST", "/containers/tty/resize?h=40&w=100", nil).Decode(t, http.StatusOK, nil)
	d.API(t, "POST", "/containers/tty/wait", nil).Decode(t, http.StatusOK, &w)
	assert.Equal(t, w.StatusCode, int64(0))
	r := d.API(t, "GET", "/containers/tty/logs?stdout=1", nil)
	assert.Equal(t, r.Status, http.StatusOK)
	assert.Equal(t, strings.TrimSpace(string(r.Body)), "resized", "a tty container's logs are raw")

	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if n := len(d.Shims()); n != 0 {
			return poll.Continue("%d shims", n)
		}
		return poll.Success()
	})
}
