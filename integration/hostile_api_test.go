package integration

// A hostile API client: huge request bodies and over-long names must be
// refused with the right status and a clear message, and leave neither
// memory nor objects behind.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// hostileBodySize is the JSON body a hostile client sends: 100 MB.
const hostileBodySize = 100 << 20

// jsonFlood yields a JSON document of n bytes, {"Env":["X=xxx...x"]},
// without holding it in memory.
func jsonFlood(n int64) io.Reader {
	head, tail := `{"Image":"busybox","Env":["X=`, `"]}`
	fill := io.LimitReader(repeatReader('x'), n-int64(len(head)+len(tail)))
	return io.MultiReader(strings.NewReader(head), fill, strings.NewReader(tail))
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// sendRaw writes a POST with the given framing header and body on a fresh
// connection to the daemon, and returns the response. The body is written
// concurrently: the daemon answers before reading it all, and stops reading.
func sendRaw(t *testing.T, d *harness.Daemon, path, framing string, body io.Reader) (int, string) {
	t.Helper()
	conn, err := net.Dial("unix", d.Sock)
	assert.NilError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n%s\r\n\r\n", path, framing)
	assert.NilError(t, err)
	go func() { _, _ = io.Copy(conn, body) }() // ends with an error when the daemon closes
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	assert.NilError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return resp.StatusCode, string(data)
}

// chunked frames r as an HTTP/1.1 chunked body.
func chunked(r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := fmt.Fprintf(pw, "%x\r\n%s\r\n", n, buf[:n]); werr != nil {
					pw.CloseWithError(werr)
					return
				}
			}
			if err != nil {
				_, _ = io.WriteString(pw, "0\r\n\r\n")
				pw.Close()
				return
			}
		}
	}()
	return pr
}

// procStatusKB returns a field of /proc/PID/status in kB (VmRSS, VmHWM).
func procStatusKB(t *testing.T, pid int, field string) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	assert.NilError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			assert.NilError(t, err, line)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestHostileAPIBodyLimit: a 100 MB JSON body is refused with 413, whether
// its length is announced or it comes chunked, and the daemon's memory
// stays small; streams (image load) are not limited.
func TestHostileAPIBodyLimit(t *testing.T) {
	d := harness.New(t)
	const msg = `{"message":"request body is too large: a JSON request body is limited to 10 MiB"}` + "\n"

	status, body := sendRaw(t, d, "/containers/create", "Content-Length: "+strconv.Itoa(hostileBodySize), jsonFlood(hostileBodySize))
	assert.Equal(t, status, http.StatusRequestEntityTooLarge, body)
	assert.Equal(t, body, msg)

	status, body = sendRaw(t, d, "/volumes/create", "Transfer-Encoding: chunked", chunked(jsonFlood(hostileBodySize)))
	assert.Equal(t, status, http.StatusRequestEntityTooLarge, body)
	assert.Equal(t, body, msg)

	// The daemon never held the body: its peak and current resident sizes
	// stay far below it.
	pid := d.Pid()
	rss, peak := procStatusKB(t, pid, "VmRSS"), procStatusKB(t, pid, "VmHWM")
	t.Logf("berthd after two 100 MB bodies: VmRSS %d kB, VmHWM %d kB", rss, peak)
	assert.Check(t, rss < 200<<10, "VmRSS %d kB", rss)
	assert.Check(t, peak < 200<<10, "VmHWM %d kB", peak)

	// It still serves, and nothing was created.
	assert.Equal(t, d.OK(t, "ps", "-aq"), "")
	assert.Equal(t, d.OK(t, "volume", "ls", "-q"), "")

	// A JSON body just under the limit is read (and refused for its content).
	r := d.API(t, "POST", "/containers/create", jsonFlood(9<<20))
	assert.Equal(t, r.Status, http.StatusBadRequest, "%.200s", r.Body)
}

// TestHostileAPILongNames: over-long volume and container names are a 400
// with a message naming the limit, through the API and the CLI, and leave
// nothing behind; the longest valid volume name works.
func TestHostileAPILongNames(t *testing.T) {
	d := harness.NewWithImage(t)
	long := strings.Repeat("v", 300)
	before := d.Snapshot(t)

	r := d.API(t, "POST", "/volumes/create", map[string]string{"Name": long})
	assert.Equal(t, r.Status, http.StatusBadRequest, "%s", r.Body)
	assert.Equal(t, r.Message(), "volume name is too long: 300 characters, the limit is 255")
	d.Fails(t, 1, []string{"volume name is too long: 300 characters, the limit is 255"}, "volume", "create", long)
	d.Fails(t, 125, []string{"volume name is too long"}, "run", "--rm", "--network", "none", "-v", long+":/data", "busybox", "true")

	r = d.API(t, "POST", "/containers/create?name="+long, map[string]any{"Image": "busybox"})
	assert.Equal(t, r.Status, http.StatusBadRequest, "%s", r.Body)
	assert.Equal(t, r.Message(), "Invalid container name: 300 characters, the limit is 255")
	d.Fails(t, 125, []string{"Invalid container name: 300 characters"}, "create", "--name", long, "busybox")

	d.AssertUnchanged(t, before, "after over-long names")

	longest := strings.Repeat("w", 255)
	assert.Equal(t, d.OK(t, "volume", "create", longest), longest)
	assert.Check(t, is.Equal(d.OK(t, "run", "--rm", "--network", "none", "-v", longest+":/data", "busybox", "sh", "-c", "echo ok > /data/f && cat /data/f"), "ok"))
	d.OK(t, "volume", "rm", longest)
}
