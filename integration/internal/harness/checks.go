package harness

// The checks the berth tests share, as methods of the Daemon they run
// against: one dialect for every suite (d.OK, d.Fails, d.API, d.Snapshot...).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// NewWithImage starts a daemon (see New) with the busybox test image loaded.
func NewWithImage(t testing.TB, opts ...Option) *Daemon {
	t.Helper()
	d := New(t, opts...)
	d.LoadImage(t)
	return d
}

// OK runs berth, fails the test unless it exits 0, and returns stdout
// without surrounding white space.
func (d *Daemon) OK(t testing.TB, args ...string) string {
	t.Helper()
	res := d.Berth(t, args...)
	assert.Equal(t, res.ExitCode, 0, "berth %s: %s", strings.Join(args, " "), res.Combined())
	return strings.TrimSpace(res.Stdout)
}

// Fails runs berth, requires exit status code and stderr containing every
// want, and returns the result.
func (d *Daemon) Fails(t testing.TB, code int, want []string, args ...string) Result {
	t.Helper()
	res := d.Berth(t, args...)
	assert.Equal(t, res.ExitCode, code, "berth %s: %s", strings.Join(args, " "), res.Combined())
	for _, w := range want {
		assert.Assert(t, strings.Contains(res.Stderr, w), "berth %s: stderr %q does not contain %q", strings.Join(args, " "), res.Stderr, w)
	}
	return res
}

// Inspect returns a Go template applied to an object by berth inspect.
func (d *Daemon) Inspect(t testing.TB, name, format string) string {
	t.Helper()
	return d.OK(t, "inspect", "--format", format, name)
}

// Poll waits up to 20 s for cond, which returns whether it holds and what
// to report if it never does.
func Poll(t testing.TB, cond func() (bool, string)) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if ok, msg := cond(); !ok {
			return poll.Continue("%s", msg)
		}
		return poll.Success()
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(30*time.Millisecond))
}

// WaitState waits until the container's State.Status is want.
func (d *Daemon) WaitState(t testing.TB, name, want string) {
	t.Helper()
	Poll(t, func() (bool, string) {
		res := d.Berth(t, "inspect", "--format", "{{.State.Status}}", name)
		got := strings.TrimSpace(res.Stdout)
		return got == want, "container " + name + " is " + got + " (" + strings.TrimSpace(res.Stderr) + "), want " + want
	})
}

// WaitLogs waits until the container's logs contain want.
func (d *Daemon) WaitLogs(t testing.TB, name, want string) {
	t.Helper()
	Poll(t, func() (bool, string) {
		res := d.Berth(t, "logs", name)
		return strings.Contains(res.Combined(), want), "logs of " + name + " are " + res.Combined() + ", want " + want
	})
}

// HTTPClient is an HTTP client talking to the daemon's socket.
func (d *Daemon) HTTPClient() *http.Client { return unixClient(d.Sock) }

func unixClient(sock string) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", sock)
		}},
	}
}

// Response is a buffered Engine API response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Message is the "message" of an error body, or "" when there is none.
func (r Response) Message() string {
	var e struct{ Message string }
	_ = json.Unmarshal(r.Body, &e)
	return e.Message
}

// Decode requires status want and decodes the JSON body into v (unless v
// is nil).
func (r Response) Decode(t testing.TB, want int, v any) {
	t.Helper()
	assert.Equal(t, r.Status, want, "body: %s", r.Body)
	if v != nil {
		assert.NilError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
	}
}

// API sends one request to the Engine API (path without a version means
// the daemon's default one). body is JSON-encoded unless it is nil, a
// string (sent as JSON; "" is no body) or an io.Reader (sent as a tar
// stream).
func (d *Daemon) API(t testing.TB, method, path string, body any) Response {
	t.Helper()
	return apiRequest(t, d.Sock, method, path, body)
}

// API sends one request to the target's Engine API, as Daemon.API does.
func (tg *Target) API(t testing.TB, method, path string, body any) Response {
	t.Helper()
	return apiRequest(t, tg.sock(t), method, path, body)
}

// Hijack sends a POST that upgrades the connection, as docker attach and
// exec start do, requires 101 Switching Protocols, and returns the stream.
// The connection is closed when the test ends.
func (tg *Target) Hijack(t testing.TB, path, body string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("unix", tg.sock(t))
	assert.NilError(t, err)
	t.Cleanup(func() { conn.Close() })
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: engine\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n%s", path, len(body), body)
	_, err = io.WriteString(conn, req)
	assert.NilError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	assert.NilError(t, err)
	assert.Equal(t, resp.StatusCode, http.StatusSwitchingProtocols)
	return conn, br
}

func (tg *Target) sock(t testing.TB) string {
	t.Helper()
	sock, ok := strings.CutPrefix(tg.host, "unix://")
	assert.Assert(t, ok, "target host %s is not a unix socket", tg.host)
	return sock
}

func apiRequest(t testing.TB, sock, method, path string, body any) Response {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		if b != "" {
			rd = strings.NewReader(b)
		}
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
	resp, err := unixClient(sock).Do(req)
	assert.NilError(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// Frames splits Docker's multiplexed stream into stdout and stderr.
func Frames(t testing.TB, data []byte) (stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	_, err := stdcopy.StdCopy(&out, &errb, bytes.NewReader(data))
	assert.NilError(t, err, "multiplexed stream %q", data)
	return out.String(), errb.String()
}

// HostMounts returns the mount points of the tmpfs and overlay mounts in
// the host's mount table (the test's own namespace) under the daemon's
// roots, where a shim would leave a staging tmpfs or a rootfs if it
// mounted in the host's namespace. (Mounts of other processes on a shared
// host come and go and are ignored.)
func (d *Daemon) HostMounts(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	assert.NilError(t, err)
	out := []string{}
	for _, line := range strings.Split(string(data), "\n") {
		_, after, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, fs := strings.Fields(line), strings.Fields(after)
		if len(f) < 5 || len(fs) == 0 || (fs[0] != "tmpfs" && fs[0] != "overlay") {
			continue
		}
		if strings.HasPrefix(f[4], d.Root+"/") || f[4] == d.Root {
			out = append(out, f[4])
		}
	}
	sort.Strings(out)
	return out
}

// Snapshot is what a refused request must leave unchanged.
type Snapshot struct {
	containers string   // berth ps -aq --no-trunc
	volumes    string   // berth volume ls -q
	dirs       []string // the data root's containers directory
	mounts     []string // the mount points under the daemon's roots
}

// Snapshot records the daemon's containers, volumes, container
// directories and mounts.
func (d *Daemon) Snapshot(t testing.TB) Snapshot {
	t.Helper()
	var dirs []string
	// The directory of a removed container is renamed to .removing-ID,
	// and deleted just after the removal's waiters (run --rm) are
	// answered: wait for that, so that one left behind still fails.
	Poll(t, func() (bool, string) {
		entries, _ := os.ReadDir(filepath.Join(d.DataRoot, "containers"))
		dirs = dirs[:0]
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".removing-") {
				return false, "a removed container's directory is still there: " + e.Name()
			}
			dirs = append(dirs, e.Name())
		}
		return true, ""
	})
	sort.Strings(dirs)
	var mounts []string
	for _, line := range d.Mounts() {
		if f := strings.Fields(line); len(f) >= 5 {
			mounts = append(mounts, f[4])
		}
	}
	sort.Strings(mounts)
	return Snapshot{
		containers: d.OK(t, "ps", "-aq", "--no-trunc"),
		volumes:    d.OK(t, "volume", "ls", "-q"),
		dirs:       dirs,
		mounts:     mounts,
	}
}

// AssertUnchanged fails when anything in the snapshot changed.
func (d *Daemon) AssertUnchanged(t testing.TB, before Snapshot, what string) {
	t.Helper()
	after := d.Snapshot(t)
	assert.Equal(t, after.containers, before.containers, "%s: berth ps -a changed", what)
	assert.Equal(t, after.volumes, before.volumes, "%s: volumes changed", what)
	assert.DeepEqual(t, after.dirs, before.dirs)
	assert.DeepEqual(t, after.mounts, before.mounts)
}
