package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// fakeDaemon is a minimal Engine API server on a unix socket that records
// the create requests it receives.
type fakeDaemon struct {
	t       *testing.T
	host    string
	mu      sync.Mutex
	creates []containertypes.CreateRequest
	names   []string
	calls   []string
	started chan struct{}
	// exitCode is what wait reports; output is what attach streams.
	exitCode int
	stdout   string
	stderr   string
}

var versionPrefix = regexp.MustCompile(`^/v[0-9.]+`)

func newFakeDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	d := &fakeDaemon{t: t, started: make(chan struct{})}
	sock := filepath.Join(t.TempDir(), "berth.sock")
	l, err := net.Listen("unix", sock)
	assert.NilError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(d.serve))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	d.host = "unix://" + sock
	return d
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (d *fakeDaemon) serve(w http.ResponseWriter, r *http.Request) {
	path := versionPrefix.ReplaceAllString(r.URL.Path, "")
	d.mu.Lock()
	d.calls = append(d.calls, r.Method+" "+path)
	d.mu.Unlock()
	w.Header().Set("Api-Version", "1.47")
	switch {
	case path == "/_ping":
		_, _ = io.WriteString(w, "OK")
	case r.Method == http.MethodPost && path == "/containers/create":
		var req containertypes.CreateRequest
		assert.Check(d.t, json.NewDecoder(r.Body).Decode(&req))
		d.mu.Lock()
		d.creates = append(d.creates, req)
		d.names = append(d.names, r.URL.Query().Get("name"))
		d.mu.Unlock()
		if req.Image == "missing" {
			writeError(w, http.StatusNotFound, "No such image: missing:latest")
			return
		}
		if req.Image == "noexec" {
			writeError(w, http.StatusBadRequest, `failed to create task: exec: "nope": executable file not found in $PATH`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"Id":"0123456789abcdef0123456789abcdef","Warnings":["tmpfs size is unlimited"]}`)
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/start"):
		close(d.started)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/attach"):
		d.attach(w)
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/wait"):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-d.started
		_, _ = fmt.Fprintf(w, `{"StatusCode":%d}`, d.exitCode)
	case r.Method == http.MethodDelete && strings.HasPrefix(path, "/containers/"):
		if strings.HasSuffix(path, "/missing") {
			writeError(w, http.StatusNotFound, "No such container: missing")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && path == "/containers/json":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `[{"Id":"0123456789abcdef0123","Names":["/web"],"Image":"busybox","Command":"sleep 60","Created":1,"State":"running","Status":"Up 2 seconds","Ports":[]}]`)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/containers/") && strings.HasSuffix(path, "/json"):
		writeError(w, http.StatusNotFound, "No such container: x")
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/images/"):
		writeError(w, http.StatusNotFound, "No such image: x")
	case r.Method == http.MethodGet && path == "/volumes/x":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"Name":"x","Driver":"local","Mountpoint":"/var/lib/berth/volumes/x/_data","Labels":null,"Options":null,"Scope":"local"}`)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/volumes/"):
		writeError(w, http.StatusNotFound, "no such volume")
	default:
		writeError(w, http.StatusNotFound, "page not found: "+r.Method+" "+path)
	}
}

func frame(stream byte, s string) []byte {
	hdr := make([]byte, 8)
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(s)))
	return append(hdr, s...)
}

func (d *fakeDaemon) attach(w http.ResponseWriter) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		d.t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	_, _ = buf.WriteString("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	_ = buf.Flush()
	<-d.started
	_, _ = conn.Write(frame(1, d.stdout))
	_, _ = conn.Write(frame(2, d.stderr))
}

func run(t *testing.T, d *fakeDaemon, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{"-H", d.host}, args...)
	code = Run(context.Background(), full, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunDetachedSendsReadOnlyTmpfsConfig(t *testing.T) {
	d := newFakeDaemon(t)
	code, out, errOut := run(t, d, "run", "-d", "--read-only", "--name", "app",
		"--tmpfs", "/run", "--tmpfs", "/tmp/:size=64m,mode=1777",
		"--mount", "type=tmpfs,dst=/cache,tmpfs-size=1m,tmpfs-uid=1000,tmpfs-copyup=false",
		"-v", "data:/data", "-e", "A=1", "-l", "k=v", "--shm-size", "128m", "--stop-timeout", "5",
		"--rm", "--runtime", "crun", "--network", "none", "-w", "/srv", "-u", "1000:1000",
		"busybox", "sh", "-c", "echo hi")
	assert.Check(t, is.Equal(code, 0), errOut)
	assert.Check(t, is.Equal(out, "0123456789abcdef0123456789abcdef\n"))
	assert.Check(t, is.Equal(errOut, "WARNING: tmpfs size is unlimited\n"))

	assert.Assert(t, is.Len(d.creates, 1))
	req := d.creates[0]
	assert.Check(t, is.Equal(d.names[0], "app"))
	assert.Check(t, is.Equal(req.Image, "busybox"))
	assert.Check(t, is.DeepEqual(req.Cmd, []string{"sh", "-c", "echo hi"}))
	assert.Check(t, is.DeepEqual(req.Env, []string{"A=1"}))
	assert.Check(t, is.DeepEqual(req.Labels, map[string]string{"k": "v"}))
	assert.Check(t, is.Equal(req.WorkingDir, "/srv"))
	assert.Check(t, is.Equal(req.User, "1000:1000"))
	assert.Check(t, !req.AttachStdout && !req.AttachStderr && !req.AttachStdin)
	assert.Assert(t, req.StopTimeout != nil)
	assert.Check(t, is.Equal(*req.StopTimeout, 5))
	hc := req.HostConfig
	assert.Assert(t, hc != nil)
	assert.Check(t, hc.ReadonlyRootfs)
	assert.Check(t, hc.AutoRemove)
	assert.Check(t, is.DeepEqual(hc.Tmpfs, map[string]string{"/run": "", "/tmp": "size=64m,mode=1777"}))
	assert.Check(t, is.DeepEqual(hc.Binds, []string{"data:/data"}))
	assert.Check(t, is.Equal(hc.ShmSize, int64(128<<20)))
	assert.Check(t, is.Equal(hc.Runtime, "crun"))
	assert.Check(t, is.Equal(string(hc.NetworkMode), "none"))
	assert.Assert(t, is.Len(hc.Mounts, 1))
	m := hc.Mounts[0]
	assert.Check(t, is.Equal(string(m.Type), "tmpfs"))
	assert.Check(t, is.Equal(m.Target, "/cache"))
	assert.Assert(t, m.TmpfsOptions != nil)
	assert.Check(t, is.Equal(m.TmpfsOptions.SizeBytes, int64(1<<20)))
	assert.Check(t, is.DeepEqual(m.TmpfsOptions.Options, [][]string{{"uid", "1000"}, {"notmpcopyup"}}))
}

func TestRunForegroundStreamsAndExitsWithStatus(t *testing.T) {
	d := newFakeDaemon(t)
	d.exitCode = 3
	d.stdout = "hello\n"
	d.stderr = "oops\n"
	code, out, errOut := run(t, d, "run", "busybox", "sh", "-c", "exit 3")
	assert.Check(t, is.Equal(code, 3))
	assert.Check(t, is.Equal(out, "hello\n"))
	assert.Check(t, is.Equal(errOut, "WARNING: tmpfs size is unlimited\noops\n"))
	req := d.creates[0]
	assert.Check(t, req.AttachStdout && req.AttachStderr && !req.AttachStdin)

	// attach and wait are registered before start.
	var order []string
	for _, c := range d.calls {
		for _, s := range []string{"/attach", "/wait", "/start"} {
			if strings.HasSuffix(c, s) {
				order = append(order, s)
			}
		}
	}
	assert.Check(t, is.DeepEqual(order, []string{"/attach", "/wait", "/start"}))
}

func TestRunErrorsExitCodes(t *testing.T) {
	d := newFakeDaemon(t)
	code, _, errOut := run(t, d, "run", "--pull", "never", "missing")
	assert.Check(t, is.Equal(code, 125))
	assert.Check(t, is.Equal(errOut, "berth: Error response from daemon: No such image: missing:latest\n\nRun 'berth run --help' for more information\n"))

	// By default a missing image is pulled (this fake daemon cannot).
	code, _, errOut = run(t, d, "run", "missing")
	assert.Check(t, is.Equal(code, 125))
	assert.Check(t, is.Contains(errOut, "Unable to find image 'missing' locally\n"))

	code, _, errOut = run(t, d, "run", "--pull", "sometimes", "missing")
	assert.Check(t, is.Equal(code, 125))
	assert.Check(t, is.Contains(errOut, `invalid pull option: "sometimes"`))

	code, _, _ = run(t, d, "run", "noexec")
	assert.Check(t, is.Equal(code, 127))

	code, _, errOut = run(t, d, "run", "--tmpfs", "/run", "--tmpfs", "/run/", "busybox")
	assert.Check(t, is.Equal(code, 125))
	assert.Check(t, is.Contains(errOut, `invalid argument "/run/" for "--tmpfs" flag: Duplicate mount point: /run`))

	code, _, errOut = run(t, d, "run", "--mount", "type=tmpfs,dst=/a,tmpfs-mode=rwx", "busybox")
	assert.Check(t, is.Equal(code, 125))
	assert.Check(t, is.Contains(errOut, "invalid value for tmpfs-mode: rwx"))

	code, _, errOut = run(t, d, "run", "--bogus", "busybox")
	assert.Check(t, is.Equal(code, 125))
	assert.Check(t, is.Contains(errOut, "unknown flag: --bogus\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]"))

	code, _, errOut = run(t, d, "run")
	assert.Check(t, is.Equal(code, 1))
	assert.Check(t, is.Contains(errOut, "berth: 'berth run' requires at least 1 argument"))
}

func TestRmReportsEachName(t *testing.T) {
	d := newFakeDaemon(t)
	code, out, errOut := run(t, d, "rm", "a", "missing", "b")
	assert.Check(t, is.Equal(code, 1))
	assert.Check(t, is.Equal(out, "a\nb\n"))
	assert.Check(t, is.Equal(errOut, "Error response from daemon: No such container: missing\n"))

	// -f tolerates missing containers.
	code, out, errOut = run(t, d, "rm", "-f", "missing")
	assert.Check(t, is.Equal(code, 0))
	assert.Check(t, is.Equal(out, ""))
	assert.Check(t, is.Contains(errOut, "No such container: missing"))
}

func TestPsTable(t *testing.T) {
	d := newFakeDaemon(t)
	code, out, _ := run(t, d, "ps", "--format", "{{.ID}} {{.Names}} {{.Status}}")
	assert.Check(t, is.Equal(code, 0))
	assert.Check(t, is.Equal(out, "0123456789ab web Up 2 seconds\n"))

	code, out, _ = run(t, d, "ps", "-q", "--no-trunc")
	assert.Check(t, is.Equal(code, 0))
	assert.Check(t, is.Equal(out, "0123456789abcdef0123\n"))

	code, out, _ = run(t, d, "ps")
	assert.Check(t, is.Equal(code, 0))
	assert.Check(t, strings.HasPrefix(out, "CONTAINER ID   IMAGE     COMMAND      CREATED"), out)
}

func TestInspect(t *testing.T) {
	d := newFakeDaemon(t)
	code, out, errOut := run(t, d, "inspect", "nothing")
	assert.Check(t, is.Equal(code, 1))
	assert.Check(t, is.Equal(out, "[]\n"))
	assert.Check(t, is.Equal(errOut, "Error: No such object: nothing\n"))

	code, out, errOut = run(t, d, "inspect", "x")
	assert.Check(t, is.Equal(code, 0), errOut)
	assert.Check(t, strings.HasPrefix(out, "[\n    {\n        \"Name\": \"x\",\n"), out)

	code, out, _ = run(t, d, "volume", "inspect", "-f", "{{.Name}} {{.Mountpoint}}", "x")
	assert.Check(t, is.Equal(code, 0))
	assert.Check(t, is.Equal(out, "x /var/lib/berth/volumes/x/_data\n"))
}

func TestConnectionFailure(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"-H", "unix://" + filepath.Join(t.TempDir(), "none.sock"), "ps"}, strings.NewReader(""), &out, &errOut)
	assert.Check(t, is.Equal(code, 1))
	assert.Check(t, is.Contains(errOut.String(), "failed to connect to the berth daemon at unix://"))

	errOut.Reset()
	code = Run(context.Background(), []string{"-H", "unix://" + filepath.Join(t.TempDir(), "none.sock"), "run", "busybox"}, strings.NewReader(""), &out, &errOut)
	assert.Check(t, is.Equal(code, 125))
	assert.Check(t, strings.HasPrefix(errOut.String(), "berth: failed to connect"))
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"frobnicate"}, strings.NewReader(""), &out, &errOut)
	assert.Check(t, is.Equal(code, 1))
	assert.Check(t, is.Equal(errOut.String(), "berth: unknown command: berth frobnicate\n\nRun 'berth --help' for more information\n"))
}
