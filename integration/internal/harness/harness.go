// Package harness starts real berthd daemons for black-box integration
// tests: each daemon gets its own data root, exec root and socket, and is
// driven through the real berth binary or the Docker Go client. The tests
// need root (namespaces, overlayfs, tmpfs mounts) and say so.
//
// A test daemon runs on the runtime users get: it starts without
// --runtime, so it probes crun and makes it its default where crun runs
// containers (runc elsewhere). BERTH_TEST_RUNTIME=runc (or crun) gives
// every daemon --runtime with that value instead, to run the whole suite
// on one runtime:
//
//	BERTH_TEST_RUNTIME=runc BERTH_BIN=$PWD/bin go test -mod=vendor ./integration/
//
// A test that names a runtime itself (WithArgs("--runtime", ...)) keeps
// it, as does one that needs the probe (WithProbedRuntime); the tests
// that depend on the runtime run on each with ForRuntimes.
package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
	imageOnce sync.Once
	imagePath string
	imageErr  error
)

// NoOutboundProxy is the proxy test daemons get for every address but
// loopback: a closed port, so that nothing a test does leaves the machine.
const NoOutboundProxy = "http://127.0.0.1:9"

// RepoRoot is the top of the source tree.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Binaries returns the directory holding berthd and berth: $BERTH_BIN if
// set (hack/test builds them there), else a fresh build.
func Binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if dir := os.Getenv("BERTH_BIN"); dir != "" {
			binDir = dir
			return
		}
		dir, err := os.MkdirTemp("", "berth-bin-")
		if err != nil {
			buildErr = err
			return
		}
		for _, b := range []string{"berthd", "berth", "berth-kube", "berth-shim", "berth-seccomp"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b), "./cmd/"+b)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b == "berth-seccomp" {
				cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
			}
			cmd.Dir = RepoRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", b, err, out)
				return
			}
		}
		binDir = dir
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// TestImage returns the path of the busybox test image archive, built once
// with hack/make-test-image.
func TestImage(t testing.TB) string {
	t.Helper()
	imageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "berth-image-")
		if err != nil {
			imageErr = err
			return
		}
		imagePath = filepath.Join(dir, "busybox.tar")
		cmd := exec.Command(filepath.Join(RepoRoot(), "hack", "make-test-image"), imagePath)
		if out, err := cmd.CombinedOutput(); err != nil {
			imageErr = fmt.Errorf("hack/make-test-image: %v\n%s", err, out)
		}
	})
	if imageErr != nil {
		t.Fatal(imageErr)
	}
	return imagePath
}

// RequireRoot fails the test when not run as root: integration tests need
// namespaces and mounts, and CI runs them as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("integration tests need root (namespaces, overlayfs, tmpfs mounts): run them as root, e.g. with hack/test")
	}
}

// RequireTool fails the test with a clear message when a tool is missing.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run hack/install-deps", name)
	}
	return p
}

// Daemon is one running berthd.
type Daemon struct {
	t         testing.TB
	Root      string
	Sock      string
	DataRoot  string
	ExecRoot  string
	LogPath   string
	Args      []string
	cmd       *exec.Cmd
	done      chan error
	slot      *netSlot
	noProxy   string     // NO_PROXY of berthd
	inherited []*os.File // descriptors berthd inherits (WithInheritedFile)
	// binDir: where berthd (and the helpers it looks for next to
	// itself) come from; Binaries(t) unless WithoutBinary.
	binDir string
	// probeRuntime: no --runtime unless the test gives one, even with
	// BERTH_TEST_RUNTIME set (WithProbedRuntime).
	probeRuntime bool
}

// Option changes how a daemon starts.
type Option func(*Daemon)

// WithArgs adds berthd flags.
func WithArgs(args ...string) Option { return func(d *Daemon) { d.Args = append(d.Args, args...) } }

// WithBridgeUnproxied lets the daemon reach its own bridge's subnet
// directly rather than through NoOutboundProxy: for a server a test runs
// on the bridge's gateway address, a local address that is not loopback.
func WithBridgeUnproxied() Option {
	return func(d *Daemon) { d.noProxy = d.BridgeSubnet() }
}

// WithInheritedFile starts berthd with f open at descriptor fd (3 or
// more) and not close-on-exec, as a careless parent would leave it.
func WithInheritedFile(fd int, f *os.File) Option {
	return func(d *Daemon) {
		for len(d.inherited) < fd-3 {
			d.inherited = append(d.inherited, nil)
		}
		d.inherited = append(d.inherited, f)
	}
}

// WithoutBinary starts berthd from a directory holding copies of the
// built binaries except the named one (e.g. berth-seccomp): how the
// daemon behaves when a helper it looks for is not installed.
func WithoutBinary(name string) Option {
	return func(d *Daemon) {
		dir, err := os.MkdirTemp("", "berth-bin-without-")
		assert.NilError(d.t, err)
		d.t.Cleanup(func() { os.RemoveAll(dir) })
		entries, err := os.ReadDir(Binaries(d.t))
		assert.NilError(d.t, err)
		for _, e := range entries {
			if e.Name() == name || !e.Type().IsRegular() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(Binaries(d.t), e.Name()))
			assert.NilError(d.t, err)
			assert.NilError(d.t, os.WriteFile(filepath.Join(dir, e.Name()), data, 0o755))
		}
		d.binDir = dir
	}
}

// WithProbedRuntime starts the daemon without --runtime even when
// BERTH_TEST_RUNTIME is set: for the tests of the probe itself, which
// need the daemon to pick its default runtime. Without it, a daemon also
// starts without --runtime (and probes) unless BERTH_TEST_RUNTIME is set
// or the test gives its own --runtime.
func WithProbedRuntime() Option { return func(d *Daemon) { d.probeRuntime = true } }

// New starts a daemon with its own roots under a temporary directory and
// stops it (and checks that it left no mount behind) when the test ends.
func New(t testing.TB, opts ...Option) *Daemon {
	t.Helper()
	RequireRoot(t)
	bin := Binaries(t)
	root, err := os.MkdirTemp("", "berth-it-")
	assert.NilError(t, err)
	d := &Daemon{
		t:        t,
		Root:     root,
		Sock:     filepath.Join(root, "berth.sock"),
		DataRoot: filepath.Join(root, "data"),
		ExecRoot: filepath.Join(root, "exec"),
		LogPath:  filepath.Join(root, "berthd.log"),
		binDir:   bin,
	}
	d.slot = takeNetSlot(t)
	d.Args = d.slot.args()
	for _, o := range opts {
		o(d)
	}
	if rt := os.Getenv("BERTH_TEST_RUNTIME"); rt != "" && !d.probeRuntime && !slices.Contains(d.Args, "--runtime") {
		d.Args = append(d.Args, "--runtime", rt)
	}
	d.Start(t)
	t.Cleanup(func() { d.cleanup() })
	return d
}

// Start starts (or restarts) the daemon process.
func (d *Daemon) Start(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(d.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	assert.NilError(t, err)
	defer logf.Close()
	// berthd insists on a config file it was pointed at: start from an
	// empty one unless the test wrote its own.
	if cfg := filepath.Join(d.Root, "daemon.json"); !fileExists(cfg) {
		assert.NilError(t, os.WriteFile(cfg, []byte("{}\n"), 0o600))
	}
	args := append([]string{"--data-root", d.DataRoot, "--exec-root", d.ExecRoot, "-H", "unix://" + d.Sock,
		"--config-file", filepath.Join(d.Root, "daemon.json"), "--log-level", "debug"}, d.Args...)
	d.cmd = exec.Command(filepath.Join(d.binDir, "berthd"), args...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// Tests reach only loopback registries, which Go never sends through a
	// proxy: a pull of anything else (a Docker Hub name) meets a closed
	// port here instead of leaving the machine.
	d.cmd.Env = append(os.Environ(), "HTTPS_PROXY="+NoOutboundProxy, "HTTP_PROXY="+NoOutboundProxy, "NO_PROXY="+d.noProxy)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d.cmd.ExtraFiles = d.inherited
	assert.NilError(t, d.cmd.Start())
	d.done = make(chan error, 1)
	go func(cmd *exec.Cmd, done chan error) { done <- cmd.Wait() }(d.cmd, d.done)
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		select {
		case err := <-d.done:
			d.done <- err
			return poll.Error(fmt.Errorf("berthd exited: %v\n%s", err, d.Log()))
		default:
		}
		// Dial rather than stat: a crashed daemon leaves its socket file.
		conn, err := net.DialTimeout("unix", d.Sock, time.Second)
		if err != nil {
			return poll.Continue("waiting for %s", d.Sock)
		}
		conn.Close()
		return poll.Success()
	}, poll.WithTimeout(15*time.Second), poll.WithDelay(20*time.Millisecond))
}

// Stop ends the daemon with SIGTERM; its containers keep running.
func (d *Daemon) Stop(t testing.TB) {
	t.Helper()
	d.signal(t, syscall.SIGTERM)
}

// Kill ends the daemon with SIGKILL, as a crash would.
func (d *Daemon) Kill(t testing.TB) {
	t.Helper()
	d.signal(t, syscall.SIGKILL)
}

func (d *Daemon) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Errorf("berthd did not stop on %v", sig)
	}
	d.cmd = nil
}

// Restart stops and starts the daemon.
func (d *Daemon) Restart(t testing.TB) {
	t.Helper()
	d.Stop(t)
	d.Start(t)
}

// Pid is the process ID of the running berthd, 0 when it is stopped.
func (d *Daemon) Pid() int {
	if d.cmd == nil || d.cmd.Process == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

// Log returns the daemon's log so far.
func (d *Daemon) Log() string {
	data, _ := os.ReadFile(d.LogPath)
	return string(data)
}

// Host is the value for berth -H and DOCKER_HOST.
func (d *Daemon) Host() string { return "unix://" + d.Sock }

// Client returns a Docker Go client for the daemon.
func (d *Daemon) Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(client.WithHost(d.Host()), client.WithAPIVersionNegotiation())
	assert.NilError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// Result is the outcome of a CLI run.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// Combined is stdout and stderr together.
func (r Result) Combined() string { return r.Stdout + r.Stderr }

// Berth runs the berth CLI against the daemon.
func (d *Daemon) Berth(t testing.TB, args ...string) Result {
	t.Helper()
	return d.BerthIn(t, "", args...)
}

// BerthIn runs the berth CLI with stdin.
func (d *Daemon) BerthIn(t testing.TB, stdin string, args ...string) Result {
	t.Helper()
	return Run(t, Command{Bin: filepath.Join(Binaries(t), "berth"), Args: append([]string{"-H", d.Host()}, args...), Stdin: stdin})
}

// Docker runs a docker CLI binary against the daemon.
func (d *Daemon) Docker(t testing.TB, docker string, args ...string) Result {
	t.Helper()
	return Run(t, Command{Bin: docker, Args: args, Env: []string{"DOCKER_HOST=" + d.Host(), "DOCKER_CONFIG=" + filepath.Join(d.Root, "docker-config")}})
}

// DockerOK runs Docker's CLI against the daemon, fails the test unless it
// succeeds, and returns its trimmed standard output.
func (d *Daemon) DockerOK(t testing.TB, args ...string) string {
	t.Helper()
	res := d.Docker(t, DockerCLI, args...)
	assert.Equal(t, res.ExitCode, 0, "docker %s: %s", strings.Join(args, " "), res.Combined())
	return strings.TrimSpace(res.Stdout)
}

// Command is one run of a program by Run.
type Command struct {
	Bin   string
	Args  []string
	Env   []string // added to the test's environment
	Dir   string
	Stdin string
	// Timeout bounds the run (default 2 minutes): a hang fails the test
	// with the output so far.
	Timeout time.Duration
}

// Run runs c and returns its output and exit code; it fails the test when
// the program cannot start or does not finish in time.
func Run(t testing.TB, c Command) Result {
	t.Helper()
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Bin, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Dir = c.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = strings.NewReader(c.Stdin)
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not finish within %v; output so far:\n%s", c.Bin, strings.Join(c.Args, " "), timeout, res.Combined())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s %v: %v", c.Bin, c.Args, err)
	}
	return res
}

// LoadImage loads the busybox test image.
func (d *Daemon) LoadImage(t testing.TB) {
	t.Helper()
	res := d.Berth(t, "load", "-i", TestImage(t))
	assert.Equal(t, res.ExitCode, 0, res.Combined())
}

// Mounts lists the host mount table entries under the daemon's roots.
func (d *Daemon) Mounts() []string {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, d.Root) {
			out = append(out, line)
		}
	}
	return out
}

// Shims lists the pids of shim processes of this daemon: berth-shim, or
// berthd where berth-shim is missing, with the argument "shim" and a state
// directory in the exec root.
func (d *Daemon) Shims() []string {
	out, _ := exec.Command("pgrep", "-f", "berth(d|-shim) shim "+regexp.QuoteMeta(d.ExecRoot)+"/").Output()
	return strings.Fields(string(out))
}

// cleanup removes every container (ending their shims), stops the daemon,
// and fails the test if anything was left behind.
func (d *Daemon) cleanup() {
	t := d.t
	if d.cmd != nil {
		res := d.Berth(t, "ps", "-aq")
		if ids := strings.Fields(res.Stdout); len(ids) > 0 {
			d.Berth(t, append([]string{"rm", "-f"}, ids...)...)
		}
		// User networks own bridges and rules on the host.
		var nets []struct{ Name string }
		if r := d.API(t, "GET", "/networks", nil); r.Status == 200 && json.Unmarshal(r.Body, &nets) == nil {
			for _, n := range nets {
				if n.Name != "bridge" && n.Name != "host" && n.Name != "none" {
					d.API(t, "DELETE", "/networks/"+n.Name, nil)
				}
			}
		}
		d.Stop(t)
	}
	// A shim ends a moment after its container is removed (it deletes the
	// runtime's state last), longer on a busy host: the same 20 s as Poll.
	for i := 0; i < 400 && len(d.Shims()) > 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if shims := d.Shims(); len(shims) > 0 {
		t.Errorf("shims left running after removing every container: %v", shims)
		for _, pid := range shims {
			_ = exec.Command("kill", "-9", pid).Run()
		}
	}
	if m := d.Mounts(); len(m) > 0 {
		t.Errorf("mounts left on the host:\n%s", strings.Join(m, "\n"))
	}
	if t.Failed() {
		t.Logf("berthd log:\n%s", tail(d.Log(), 80))
	}
	d.slot.release()
	os.RemoveAll(d.Root)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Cleanup removes what the harness made once per test binary (the test
// image, a build of the binaries). Call it from TestMain after m.Run.
func Cleanup() {
	if imagePath != "" {
		os.RemoveAll(filepath.Dir(imagePath))
	}
	if binDir != "" && os.Getenv("BERTH_BIN") == "" {
		os.RemoveAll(binDir)
	}
}
