package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/berth-project/berth/integration/internal/harness"
)

// Helpers of the engine tests (issue 2), prefixed eng to keep clear of the
// other suites in this package.

// engDaemon starts a daemon with the test image loaded.
func engDaemon(t *testing.T, opts ...harness.Option) *harness.Daemon {
	t.Helper()
	d := harness.New(t, opts...)
	d.LoadImage(t)
	return d
}

// engOK runs berth and fails the test unless it exits 0; it returns the
// trimmed stdout.
func engOK(t *testing.T, d *harness.Daemon, args ...string) string {
	t.Helper()
	res := d.Berth(t, args...)
	assert.Equal(t, res.ExitCode, 0, "berth %v: %s", args, res.Combined())
	return strings.TrimSpace(res.Stdout)
}

// engInspect returns a Go template applied to a container by berth inspect.
func engInspect(t *testing.T, d *harness.Daemon, name, format string) string {
	t.Helper()
	return engOK(t, d, "inspect", "--format", format, name)
}

// engWaitState polls until the container's State.Status is want.
func engWaitState(t *testing.T, d *harness.Daemon, name, want string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		res := d.Berth(t, "inspect", "--format", "{{.State.Status}}", name)
		if got := strings.TrimSpace(res.Stdout); got != want {
			return poll.Continue("container %s is %q (%s), want %q", name, got, strings.TrimSpace(res.Stderr), want)
		}
		return poll.Success()
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(50*time.Millisecond))
}

// engWaitLogs polls until the container's logs contain want.
func engWaitLogs(t *testing.T, d *harness.Daemon, name, want string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		res := d.Berth(t, "logs", name)
		if !strings.Contains(res.Combined(), want) {
			return poll.Continue("logs of %s are %q, want %q", name, res.Combined(), want)
		}
		return poll.Success()
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(50*time.Millisecond))
}

// engHTTP is an HTTP client talking to the daemon's socket.
func engHTTP(d *harness.Daemon) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.Sock)
		}},
	}
}

// engResponse is a buffered API response.
type engResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// Message is the "message" of an error body, or "" when there is none.
func (r engResponse) Message() string {
	var e struct{ Message string }
	_ = json.Unmarshal(r.Body, &e)
	return e.Message
}

// engAPI sends one request to the Engine API; body is JSON-encoded unless it
// is nil, a string or an io.Reader.
func engAPI(t *testing.T, d *harness.Daemon, method, path string, body any) engResponse {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case io.Reader:
		rd, ctype = b, "application/x-tar"
	default:
		data, err := json.Marshal(b)
		assert.NilError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, "http://berth"+path, rd)
	assert.NilError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := engHTTP(d).Do(req)
	assert.NilError(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return engResponse{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// engDecode decodes a JSON response body, failing on a bad status.
func engDecode(t *testing.T, r engResponse, want int, v any) {
	t.Helper()
	assert.Equal(t, r.Status, want, "body: %s", r.Body)
	if v != nil {
		assert.NilError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
	}
}

// engSnapshot is what a failed request must leave unchanged.
type engSnapshot struct {
	ps, volumes string
	dirs        []string
	mounts      int
}

func engTakeSnapshot(t *testing.T, d *harness.Daemon) engSnapshot {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(d.DataRoot, "containers"))
	var dirs []string
	for _, e := range entries {
		dirs = append(dirs, e.Name())
	}
	sort.Strings(dirs)
	return engSnapshot{
		ps:      engOK(t, d, "ps", "-aq", "--no-trunc"),
		volumes: engOK(t, d, "volume", "ls", "-q"),
		dirs:    dirs,
		mounts:  len(d.Mounts()),
	}
}

// engUnchanged fails when anything in the snapshot changed.
func engUnchanged(t *testing.T, d *harness.Daemon, before engSnapshot, what string) {
	t.Helper()
	after := engTakeSnapshot(t, d)
	assert.Equal(t, after.ps, before.ps, "%s: ps -a changed", what)
	assert.Equal(t, after.volumes, before.volumes, "%s: volumes changed", what)
	assert.DeepEqual(t, after.dirs, before.dirs)
	assert.Equal(t, after.mounts, before.mounts, "%s: mounts changed", what)
}

// engFrames splits Docker's multiplexed stream into stdout and stderr and
// fails on a malformed header.
func engFrames(t *testing.T, data []byte) (stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	for len(data) > 0 {
		assert.Assert(t, len(data) >= 8, "short frame header: %q", data)
		stream := data[0]
		assert.Assert(t, data[1] == 0 && data[2] == 0 && data[3] == 0, "bad frame header %v", data[:8])
		n := int(uint32(data[4])<<24 | uint32(data[5])<<16 | uint32(data[6])<<8 | uint32(data[7]))
		assert.Assert(t, len(data) >= 8+n, "frame of %d bytes truncated: %q", n, data)
		switch stream {
		case 1:
			out.Write(data[8 : 8+n])
		case 2:
			errb.Write(data[8 : 8+n])
		default:
			t.Fatalf("bad stream id %d", stream)
		}
		data = data[8+n:]
	}
	return out.String(), errb.String()
}
