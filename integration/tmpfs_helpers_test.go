package integration

// Helpers of the tmpfs contract tests (tmpfs_*_test.go): the runtimes they
// run on, running a shell script in a container and parsing its key=value
// report, building extra images with `berth import`, and snapshots of what
// a failed create must not leave behind.

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/berth-project/berth/integration/internal/harness"
)

// tfRuntimes are the OCI runtimes every runtime-dependent tmpfs test runs
// on, each as a subtest named after it.
var tfRuntimes = []string{"runc", "crun"}

// tfDaemon starts a daemon with the busybox test image loaded.
func tfDaemon(t *testing.T, opts ...harness.Option) *harness.Daemon {
	t.Helper()
	d := harness.New(t, opts...)
	d.LoadImage(t)
	return d
}

// tfForRuntimes runs fn once per runtime, as a subtest, after checking that
// the runtime can start a container on this host at all. A runtime that
// cannot is a failure with the reason, never a skip.
func tfForRuntimes(t *testing.T, d *harness.Daemon, fn func(t *testing.T, rt string)) {
	t.Helper()
	for _, rt := range tfRuntimes {
		t.Run(rt, func(t *testing.T) {
			tfRequireRuntime(t, d, rt)
			fn(t, rt)
		})
	}
}

// tfRequireRuntime fails the test when rt cannot run `true` here.
func tfRequireRuntime(t *testing.T, d *harness.Daemon, rt string) {
	t.Helper()
	if _, err := exec.LookPath(rt); err != nil {
		t.Fatalf("%s is not installed: run hack/install-deps", rt)
	}
	res := d.Berth(t, "run", "--rm", "--network", "none", "--runtime", rt, "busybox", "true")
	if res.ExitCode == 0 {
		return
	}
	if strings.Contains(res.Combined(), "cgroups in hybrid mode not supported") {
		t.Fatalf("%s cannot start containers on this host (hybrid cgroups: a controller is still on cgroup2): "+
			"run hack/setup-crun-host as root first (CI does); %s said: %s", rt, rt, strings.TrimSpace(res.Stderr))
	}
	t.Fatalf("%s cannot start a container: exit %d: %s", rt, res.ExitCode, res.Combined())
}

// tfOK runs berth and requires success; it returns stdout without the
// trailing newline.
func tfOK(t *testing.T, d *harness.Daemon, args ...string) string {
	t.Helper()
	res := d.Berth(t, args...)
	assert.Equal(t, res.ExitCode, 0, "berth %s: %s", strings.Join(args, " "), res.Combined())
	return strings.TrimRight(res.Stdout, "\n")
}

// tfFails runs berth, requires exit status code and stderr containing
// every want, and returns the result.
func tfFails(t *testing.T, d *harness.Daemon, code int, want []string, args ...string) harness.Result {
	t.Helper()
	res := d.Berth(t, args...)
	assert.Equal(t, res.ExitCode, code, "berth %s: %s", strings.Join(args, " "), res.Combined())
	for _, w := range want {
		assert.Assert(t, strings.Contains(res.Stderr, w), "berth %s: stderr %q does not contain %q", strings.Join(args, " "), res.Stderr, w)
	}
	return res
}

// tfScript is the shell prelude of every check script: st prints
// "MODE UID GID" of a path, w tries a write and prints "ok" or the error.
const tfScript = `st() { stat -c '%a %u %g' "$1"; }
w() { if out=$( (echo data > "$1") 2>&1); then echo ok; else echo "$out" | tr '\n' ' '; fi; }
`

// tfRunScript runs script with sh in a new container (removed afterwards)
// with the runtime and run flags given, and returns its key=value report.
// The script must succeed.
func tfRunScript(t *testing.T, d *harness.Daemon, rt string, flags []string, script string) map[string]string {
	t.Helper()
	return tfRunScriptIn(t, d, rt, "busybox", flags, script)
}

// tfRunScriptIn is tfRunScript with another image.
func tfRunScriptIn(t *testing.T, d *harness.Daemon, rt, image string, flags []string, script string) map[string]string {
	t.Helper()
	args := append([]string{"run", "--rm", "--network", "none", "--runtime", rt}, flags...)
	args = append(args, image, "sh", "-c", tfScript+script)
	res := d.Berth(t, args...)
	assert.Equal(t, res.ExitCode, 0, "script failed: %s", res.Combined())
	return tfParse(res.Stdout)
}

// tfExecScript runs script in a running container and returns its report.
func tfExecScript(t *testing.T, d *harness.Daemon, id, script string) map[string]string {
	t.Helper()
	res := d.Berth(t, "exec", id, "sh", "-c", tfScript+script)
	assert.Equal(t, res.ExitCode, 0, "exec script failed: %s", res.Combined())
	return tfParse(res.Stdout)
}

// tfParse reads "key=value" lines; other lines are ignored.
func tfParse(out string) map[string]string {
	kv := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" && !strings.ContainsAny(k, " \t") {
			kv[k] = strings.TrimSpace(v)
		}
	}
	return kv
}

// tfWant is one expectation on a script report: the value of Key must
// equal Equal, or contain Contains.
type tfWant struct {
	Key, Equal, Contains string
}

func tfCheck(t *testing.T, kv map[string]string, wants []tfWant) {
	t.Helper()
	for _, w := range wants {
		got, ok := kv[w.Key]
		if !ok {
			t.Errorf("%s: missing from the report %v", w.Key, kv)
			continue
		}
		if w.Contains != "" {
			if !strings.Contains(got, w.Contains) {
				t.Errorf("%s = %q, want it to contain %q", w.Key, got, w.Contains)
			}
		} else if got != w.Equal {
			t.Errorf("%s = %q, want %q", w.Key, got, w.Equal)
		}
	}
}

// tfMountOpts returns the options of the mount at dest in a /proc/mounts
// text, "" if there is none.
func tfMountOpts(procMounts, dest string) string {
	var opts string
	for _, line := range strings.Split(procMounts, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[1] == dest {
			opts = f[3] // the last mount on a path is the one in effect
		}
	}
	return opts
}

// tfHostTmpfsMounts returns the tmpfs and overlay mounts in the host's
// mount table (the test's own namespace) that belong to the daemon: those
// mounted anywhere under its data or exec root, where a shim would leave a
// staging tmpfs or a rootfs if it mounted in the host's namespace. (Mounts
// of other processes on a shared host come and go and are ignored.)
func tfHostTmpfsMounts(t *testing.T, d *harness.Daemon) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	assert.NilError(t, err)
	out := []string{}
	for _, line := range strings.Split(string(data), "\n") {
		_, after, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f := strings.Fields(line)
		fs := strings.Fields(after)
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

// tfSnapshot is what a refused create must leave unchanged.
type tfSnapshot struct {
	containers  string   // berth ps -aq
	dataEntries []string // the data root's containers directory
	hostMounts  []string // the host's tmpfs and overlay mounts
	volumes     string   // berth volume ls -q
}

func tfTakeSnapshot(t *testing.T, d *harness.Daemon) tfSnapshot {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(d.DataRoot, "containers"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return tfSnapshot{
		containers:  tfOK(t, d, "ps", "-aq", "--no-trunc"),
		dataEntries: names,
		hostMounts:  tfHostTmpfsMounts(t, d),
		volumes:     tfOK(t, d, "volume", "ls", "-q"),
	}
}

func tfAssertUnchanged(t *testing.T, d *harness.Daemon, before tfSnapshot, what string) {
	t.Helper()
	after := tfTakeSnapshot(t, d)
	assert.Equal(t, after.containers, before.containers, "%s: berth ps -a changed", what)
	assert.DeepEqual(t, after.dataEntries, before.dataEntries)
	assert.DeepEqual(t, after.hostMounts, before.hostMounts)
	assert.Equal(t, after.volumes, before.volumes, "%s: volumes changed", what)
}

// tfAPI sends a raw Engine API request to the daemon and returns the
// status and decoded {"message"} (or the raw body).
func tfAPI(t *testing.T, d *harness.Daemon, method, path string, body any) (int, []byte) {
	t.Helper()
	hc := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "unix", d.Sock)
		}},
	}
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		assert.NilError(t, err)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, "http://berth/v1.47"+path, r)
	assert.NilError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	assert.NilError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return resp.StatusCode, data
}

// tfMessage is the "message" of an API error body.
func tfMessage(body []byte) string {
	var m struct{ Message string }
	if json.Unmarshal(body, &m) != nil {
		return string(body)
	}
	return m.Message
}

// tfEntry is one file of an image built by tfBuildImage.
type tfEntry struct {
	Name     string // path without the leading "/"
	Type     byte   // tar.TypeReg, TypeDir, TypeSymlink, TypeLink
	Body     string
	Link     string
	Mode     int64
	UID, GID int
	Xattrs   map[string]string
}

// tfBuildImage imports a one-layer image named ref: the host's static
// busybox with a symlink per applet, /etc/passwd and /etc/group with the
// app user (1000), and the extra entries; changes are `import --change`
// instructions (Cmd defaults to sh).
func tfBuildImage(t *testing.T, d *harness.Daemon, ref string, changes []string, extra []tfEntry) {
	t.Helper()
	busybox, err := os.ReadFile("/bin/busybox")
	assert.NilError(t, err, "busybox-static is needed: run hack/install-deps")
	list, err := exec.Command("/bin/busybox", "--list").Output()
	assert.NilError(t, err)
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := []tfEntry{
		{Name: "bin", Type: tar.TypeDir, Mode: 0o755},
		{Name: "bin/busybox", Type: tar.TypeReg, Body: string(busybox), Mode: 0o755},
		{Name: "etc", Type: tar.TypeDir, Mode: 0o755},
		{Name: "etc/passwd", Type: tar.TypeReg, Mode: 0o644, Body: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"},
		{Name: "etc/group", Type: tar.TypeReg, Mode: 0o644, Body: "root:x:0:\napp:x:1000:\n"},
		{Name: "tmp", Type: tar.TypeDir, Mode: 0o1777},
	}
	for _, name := range strings.Fields(string(list)) {
		if name != "busybox" {
			entries = append(entries, tfEntry{Name: "bin/" + name, Type: tar.TypeSymlink, Link: "busybox"})
		}
	}
	entries = append(entries, extra...)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{
			Name: e.Name, Typeflag: e.Type, Linkname: e.Link, Mode: e.Mode,
			Uid: e.UID, Gid: e.GID, ModTime: mtime, Format: tar.FormatPAX,
		}
		if e.Type == tar.TypeDir {
			hdr.Name += "/"
		}
		if e.Type == tar.TypeSymlink && hdr.Mode == 0 {
			hdr.Mode = 0o777
		}
		if e.Type == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		for k, v := range e.Xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
		assert.NilError(t, tw.WriteHeader(hdr))
		if e.Type == tar.TypeReg {
			_, err := tw.Write([]byte(e.Body))
			assert.NilError(t, err)
		}
	}
	assert.NilError(t, tw.Close())
	path := filepath.Join(t.TempDir(), "rootfs.tar")
	assert.NilError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	args := []string{"import"}
	for _, c := range append([]string{`CMD ["sh"]`}, changes...) {
		args = append(args, "--change", c)
	}
	tfOK(t, d, append(args, path, ref)...)
}

// tfWaitRunning waits until the container's state is running.
func tfWaitRunning(t *testing.T, d *harness.Daemon, id string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if st := tfOK(t, d, "inspect", "-f", "{{.State.Status}}", id); st != "running" {
			return poll.Continue("state %s", st)
		}
		return poll.Success()
	}, poll.WithTimeout(10*time.Second), poll.WithDelay(20*time.Millisecond))
}

// tfPoll waits up to 20 s for cond, which returns whether it holds and
// what to report if it never does.
func tfPoll(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	var last string
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		ok, msg := cond()
		if ok {
			return poll.Success()
		}
		last = msg
		return poll.Continue("%s", last)
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(30*time.Millisecond))
}

// tfAtoi parses a number a script reported.
func tfAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	assert.NilError(t, err, "not a number: %q", s)
	return n
}
