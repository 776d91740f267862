package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// The docker CLIs the compatibility tests drive.
const (
	DockerCLI     = "/usr/local/bin/docker" // docker 28.x
	DockerCLI2010 = "/usr/bin/docker"       // Debian docker.io 20.10
)

// Target is the engine a docker CLI test drives: by default a private
// berthd started for the test; with BERTH_TEST_TARGET=docker, the dockerd
// listening at BERTH_TEST_DOCKER_HOST (see hack/start-reference-dockerd), so
// that every expectation can be checked against Docker itself.
type Target struct {
	t testing.TB
	// Daemon is the berthd under test; nil when the target is dockerd.
	Daemon    *Daemon
	host      string
	configDir string
}

// TargetIsDocker reports whether the tests run against a reference dockerd.
func TargetIsDocker() bool { return os.Getenv("BERTH_TEST_TARGET") == "docker" }

// NewTarget returns the engine to test, with the busybox test image loaded.
// Against dockerd it removes every container when the test ends, so it
// must only be pointed at a private daemon.
func NewTarget(t testing.TB, opts ...Option) *Target {
	t.Helper()
	RequireRoot(t)
	if !TargetIsDocker() {
		d := New(t, opts...)
		d.LoadImage(t)
		return &Target{t: t, Daemon: d, host: d.Host(), configDir: filepath.Join(d.Root, "docker-config")}
	}
	host := os.Getenv("BERTH_TEST_DOCKER_HOST")
	if host == "" {
		t.Fatal("BERTH_TEST_TARGET=docker needs BERTH_TEST_DOCKER_HOST (e.g. unix:///run/docker-ref.sock): start one with hack/start-reference-dockerd")
	}
	tg := &Target{t: t, host: host, configDir: t.TempDir()}
	res := tg.Docker(t, "load", "-i", TestImage(t))
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	t.Cleanup(func() {
		ids := strings.Fields(tg.Docker(t, "ps", "-aq").Stdout)
		if len(ids) > 0 {
			tg.Docker(t, append([]string{"rm", "-f"}, ids...)...)
		}
	})
	return tg
}

// IsDocker reports whether the target is a reference dockerd.
func (tg *Target) IsDocker() bool { return tg.Daemon == nil }

// Host is the target's DOCKER_HOST.
func (tg *Target) Host() string { return tg.host }

// Env is the environment that points a docker CLI at the target.
func (tg *Target) Env() []string {
	return []string{"DOCKER_HOST=" + tg.host, "DOCKER_CONFIG=" + tg.configDir, "DOCKER_CLI_HINTS=false"}
}

// Docker runs the docker 28 CLI against the target.
func (tg *Target) Docker(t testing.TB, args ...string) Result {
	t.Helper()
	return tg.CLI(t, DockerCLI, "", args...)
}

// cliTimeout bounds one CLI command: a hang fails fast, with the
// command's output so far.
const cliTimeout = 45 * time.Second

// CLI runs the docker CLI binary bin with stdin against the target.
func (tg *Target) CLI(t testing.TB, bin, stdin string, args ...string) Result {
	t.Helper()
	return Run(t, Command{Bin: bin, Args: args, Env: tg.Env(), Stdin: stdin, Timeout: cliTimeout})
}

// PTY is a docker CLI running on a pseudo-terminal, as in an interactive
// shell.
type PTY struct {
	cmd  *exec.Cmd
	tty  *os.File
	done chan struct{}
	err  error

	mu  sync.Mutex // guards out
	out bytes.Buffer
}

// CLIOnPTY starts the docker CLI bin with args on a fresh pseudo-terminal
// of rows x cols; the process ends with the test at the latest.
func (tg *Target) CLIOnPTY(t testing.TB, bin string, rows, cols uint16, args ...string) *PTY {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), tg.Env()...), "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	assert.NilError(t, err)
	p := &PTY{cmd: cmd, tty: f, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				p.mu.Lock()
				p.out.Write(buf[:n])
				p.mu.Unlock()
			}
			if err != nil {
				break
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		f.Close()
	})
	return p
}

// Type writes s to the terminal, as typed keys.
func (p *PTY) Type(t testing.TB, s string) {
	t.Helper()
	_, err := io.WriteString(p.tty, s)
	assert.NilError(t, err)
}

// Output is everything the terminal showed so far.
func (p *PTY) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Expect waits until the terminal has shown s.
func (p *PTY) Expect(t testing.TB, s string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(p.Output(), s) {
			return poll.Success()
		}
		select {
		case <-p.done:
			return poll.Error(fmt.Errorf("process ended before showing %q; output:\n%s", s, p.Output()))
		default:
		}
		return poll.Continue("waiting for %q; output so far:\n%s", s, p.Output())
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(20*time.Millisecond))
}

// Resize changes the terminal's size; the CLI gets SIGWINCH.
func (p *PTY) Resize(t testing.TB, rows, cols uint16) {
	t.Helper()
	assert.NilError(t, pty.Setsize(p.tty, &pty.Winsize{Rows: rows, Cols: cols}))
}

// Wait waits for the CLI to exit and returns its exit code.
func (p *PTY) Wait(t testing.TB) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case <-p.done:
	case <-ctx.Done():
		t.Fatalf("CLI on the terminal did not exit; output:\n%s", p.Output())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	assert.NilError(t, p.err)
	return 0
}
