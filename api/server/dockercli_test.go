package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
)

// TestDockerCLI runs the real docker CLI against the server over a unix
// socket, when the CLI is installed.
func TestDockerCLI(t *testing.T) {
	dockerBin, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("docker CLI not installed")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "berth.sock")
	l, err := net.Listen("unix", sock)
	assert.NilError(t, err)
	fb := &fakeBackend{}
	fb.attachFn = func(_ context.Context, _ string, opts AttachOptions) error {
		streams, err := opts.GetStreams(false)
		if err != nil {
			return err
		}
		_, _ = io.WriteString(streams.Stdout, "hello from berth\n")
		return nil
	}
	fb.logsFn = func(context.Context, string, LogsOptions) (<-chan LogMessage, bool, error) {
		ch := make(chan LogMessage, 2)
		ch <- LogMessage{Stream: "stdout", Line: []byte("line one\n")}
		ch <- LogMessage{Stream: "stderr", Line: []byte("line two\n")}
		close(ch)
		return ch, false, nil
	}
	fb.waitFn = func(context.Context, string, containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
		ch := make(chan containertypes.WaitResponse, 1)
		ch <- containertypes.WaitResponse{StatusCode: 7}
		return ch, nil
	}
	srv := New(fb, Options{Version: "0.1.0", Logger: slog.New(slog.DiscardHandler)})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })

	docker := func(args ...string) (string, error) {
		cmd := exec.Command(dockerBin, args...)
		cmd.Env = []string{"HOME=" + dir, "DOCKER_HOST=unix://" + sock, "DOCKER_CONFIG=" + dir}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	tests := []struct {
		args     []string
		want     string
		wantErr  bool
		wantExit int // the exit status the CLI passes on from the wait
	}{
		{[]string{"version", "--format", "{{.Server.APIVersion}}"}, "1.47\n", false, 0},
		{[]string{"ps", "-a", "--format", "{{.Names}}", "--filter", "label=a=b"}, "web\n", false, 0},
		{[]string{"run", "--name", "job", "busybox", "echo"}, "hello from berth\n", false, 7},
		{[]string{"create", "--name", "web", "--read-only", "--tmpfs", "/tmp:size=64m", "busybox"}, "c0ffee\n", false, 0},
		{[]string{"start", "web"}, "web\n", false, 0},
		{[]string{"wait", "web"}, "7\n", false, 0},
		{[]string{"logs", "web"}, "line one\nline two\n", false, 0},
		{[]string{"network", "ls", "--format", "{{.Name}} {{.Driver}}"}, "bridge bridge\nhost host\nnone null\n", false, 0},
		{[]string{"volume", "ls", "--format", "{{.Name}}"}, "data\n", false, 0},
		{[]string{"attach", "--no-stdin", "web"}, "hello from berth\n", false, 7},
		{[]string{"pull", "busybox"}, "Using default tag: latest\nStatus: Downloaded newer image for docker.io/library/busybox\ndocker.io/library/busybox:latest\n", false, 0},
		{[]string{"create", "--name", "-x", "busybox"}, "Invalid container name (-x)", true, 0},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := docker(tc.args...)
			if tc.wantErr {
				assert.Check(t, err != nil, out)
				assert.Check(t, strings.Contains(out, tc.want), out)
				return
			}
			var exitErr *exec.ExitError
			switch {
			case tc.wantExit != 0 && errors.As(err, &exitErr):
				assert.Equal(t, exitErr.ExitCode(), tc.wantExit, out)
			default:
				assert.NilError(t, err, out)
			}
			assert.Equal(t, out, tc.want)
		})
	}
	// The last container created is "web", with its HostConfig intact.
	assert.Check(t, fb.createHC != nil && fb.createHC.ReadonlyRootfs)
	assert.DeepEqual(t, fb.createHC.Tmpfs, map[string]string{"/tmp": "size=64m"})
	_ = os.Remove(sock)
}
