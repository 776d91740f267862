package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/api/types/backend"
)

// rawExecStart sends POST /exec/{id}/start with a JSON body as the docker
// CLI does and returns the hijacked connection.
func rawExecStart(t *testing.T, ts *httptest.Server, path string, upgrade bool, body string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	return rawPost(t, ts, path, upgrade, fmt.Sprintf("Content-Type: application/json\r\nContent-Length: %d\r\n", len(body)), body)
}

func TestExecCreate(t *testing.T) {
	fb, ts := newTestServer(t)
	r := do(t, ts, "POST", "/v1.47/containers/web/exec", `{"Cmd":["sh","-c","id"],"User":"app","Env":["A=1"],"WorkingDir":"/tmp","Tty":true,"AttachStdin":true}`)
	assert.Equal(t, r.status, 201, r.body)
	assert.Equal(t, r.body, `{"Id":"exec1"}`+"\n")
	assert.DeepEqual(t, fb.createReq.Cmd, []string{"sh", "-c", "id"})
	assert.Equal(t, fb.createReq.User, "app")
	assert.Check(t, fb.createReq.Tty && fb.createReq.AttachStdin)

	r = do(t, ts, "POST", "/containers/web/exec", `{"Cmd":[]}`)
	assert.Equal(t, r.status, 400)
	assert.Equal(t, r.body, `{"message":"No exec command specified"}`+"\n")

	fb.err = errdefs.ErrConflict.WithMessage("container abc is not running")
	r = do(t, ts, "POST", "/containers/web/exec", `{"Cmd":["true"]}`)
	assert.Equal(t, r.status, 409)
	assert.Equal(t, r.body, `{"message":"container abc is not running"}`+"\n")
}

func TestExecStart(t *testing.T) {
	t.Run("detached answers 200 at once", func(t *testing.T) {
		fb, ts := newTestServer(t)
		r := do(t, ts, "POST", "/exec/exec1/start", `{"Detach":true}`)
		assert.Equal(t, r.status, 200)
		assert.Equal(t, r.body, "")
		assert.Check(t, fb.startOpts.Detach)
		assert.Check(t, fb.startOpts.GetStreams == nil)
	})
	t.Run("attached is hijacked, multiplexed without tty", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.startFn = func(_ context.Context, _ string, opts backend.ExecStartOptions) error {
			streams, err := opts.GetStreams(false, true)
			if err != nil {
				return err
			}
			in, err := io.ReadAll(streams.Stdin)
			if err != nil {
				return err
			}
			_, _ = io.WriteString(streams.Stdout, "got "+string(in))
			_, _ = io.WriteString(streams.Stderr, "warn")
			return nil
		}
		conn, br, resp := rawExecStart(t, ts, "/v1.47/exec/exec1/start", true, `{"Tty":false}`)
		assert.Equal(t, resp.StatusCode, 101)
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.multiplexed-stream")
		_, err := io.WriteString(conn, "input")
		assert.NilError(t, err)
		assert.NilError(t, conn.(interface{ CloseWrite() error }).CloseWrite())
		assert.DeepEqual(t, readFrames(t, br), []string{"1:got input", "2:warn"})
	})
	t.Run("tty is raw", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.startFn = func(_ context.Context, _ string, opts backend.ExecStartOptions) error {
			streams, err := opts.GetStreams(true, false)
			if err != nil {
				return err
			}
			_, _ = io.WriteString(streams.Stdout, "raw\r\n")
			return nil
		}
		_, br, resp := rawExecStart(t, ts, "/exec/exec1/start", false, `{"Tty":true}`)
		assert.Equal(t, resp.StatusCode, 200)
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.raw-stream")
		out, err := io.ReadAll(br)
		assert.NilError(t, err)
		assert.Equal(t, string(out), "raw\r\n")
	})
	t.Run("the start request's Tty decides the framing", func(t *testing.T) {
		// The exec has a TTY (the daemon says tty=true) but the start
		// asks for none: the output is multiplexed, as in Docker.
		fb, ts := newTestServer(t)
		fb.startFn = func(_ context.Context, _ string, opts backend.ExecStartOptions) error {
			streams, err := opts.GetStreams(true, false)
			if err != nil {
				return err
			}
			_, _ = io.WriteString(streams.Stdout, "hi\r\n")
			return nil
		}
		_, br, resp := rawExecStart(t, ts, "/v1.47/exec/exec1/start", true, `{"Tty":false}`)
		assert.Equal(t, resp.Header.Get("Content-Type"), "application/vnd.docker.multiplexed-stream")
		assert.DeepEqual(t, readFrames(t, br), []string{"1:hi\r\n"})
	})
	t.Run("unknown exec is a plain 404", func(t *testing.T) {
		fb, ts := newTestServer(t)
		fb.err = errdefs.ErrNotFound.WithMessage("No such exec instance: nope")
		r := do(t, ts, "POST", "/exec/nope/start", `{}`)
		assert.Equal(t, r.status, 404)
		assert.Equal(t, r.body, `{"message":"No such exec instance: nope"}`+"\n")
	})
	t.Run("console size needs a tty", func(t *testing.T) {
		_, ts := newTestServer(t)
		r := do(t, ts, "POST", "/exec/exec1/start", `{"ConsoleSize":[10,20]}`)
		assert.Equal(t, r.status, 400)
	})
}

func TestExecInspectAndResize(t *testing.T) {
	fb, ts := newTestServer(t)
	r := do(t, ts, "GET", "/exec/exec1/json", "")
	assert.Equal(t, r.status, 200)
	var got containertypes.ExecInspectResponse
	assert.NilError(t, json.Unmarshal([]byte(r.body), &got))
	assert.Equal(t, got.ID, "exec1")
	assert.Equal(t, *got.ExitCode, 3)

	r = do(t, ts, "POST", "/exec/exec1/resize?h=30&w=100", "")
	assert.Equal(t, r.status, 200)
	assert.Equal(t, fb.lastCall(), "exec resize exec1 30x100")
	r = do(t, ts, "POST", "/exec/exec1/resize?h=x&w=100", "")
	assert.Equal(t, r.status, 400)
}

func TestPauseTopStats(t *testing.T) {
	fb, ts := newTestServer(t)
	r := do(t, ts, "POST", "/containers/web/pause", "")
	assert.Equal(t, r.status, 204)
	assert.Equal(t, fb.lastCall(), "pause web")
	r = do(t, ts, "POST", "/containers/web/unpause", "")
	assert.Equal(t, r.status, 204)
	assert.Equal(t, fb.lastCall(), "unpause web")

	r = do(t, ts, "GET", "/containers/web/top?ps_args=-o+pid,comm", "")
	assert.Equal(t, r.status, 200)
	assert.Equal(t, r.body, `{"Processes":[["1","sleep"]],"Titles":["PID","CMD"]}`+"\n")
	assert.Equal(t, fb.psArgs, "-o pid,comm")

	r = do(t, ts, "GET", "/containers/web/stats?stream=false", "")
	assert.Equal(t, r.status, 200)
	assert.Equal(t, strings.Count(r.body, "\n"), 1, r.body)
	assert.Check(t, !fb.statsOpts.Stream)
	r = do(t, ts, "GET", "/containers/web/stats", "")
	assert.Equal(t, strings.Count(r.body, "\n"), 2, r.body)
	assert.Check(t, fb.statsOpts.Stream)
	r = do(t, ts, "GET", "/containers/web/stats?stream=1&one-shot=1", "")
	assert.Equal(t, r.status, 400)

	fb.err = errdefs.ErrNotFound.WithMessage("No such container: web")
	r = do(t, ts, "GET", "/containers/web/stats?stream=false", "")
	assert.Equal(t, r.status, 404)
}
