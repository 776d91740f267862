package server

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
)

// These tests drive the server with Docker's own Go client, to prove the
// wire format rather than our reading of it.

func newMobyClient(t *testing.T) (*fakeBackend, *client.Client) {
	t.Helper()
	fb, ts := newTestServer(t)
	c, err := client.New(client.WithHost("tcp://" + ts.Listener.Addr().String()))
	assert.NilError(t, err)
	t.Cleanup(func() { c.Close() })
	return fb, c
}

func TestMobyClient(t *testing.T) {
	ctx := context.Background()

	t.Run("ping negotiates 1.47", func(t *testing.T) {
		_, c := newMobyClient(t)
		ping, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		assert.NilError(t, err)
		assert.Equal(t, ping.APIVersion, "1.47")
		assert.Equal(t, ping.OSType, "linux")
		assert.Equal(t, ping.Experimental, false)
		assert.Equal(t, c.ClientVersion(), "1.47")
	})

	t.Run("create, list, wait", func(t *testing.T) {
		fb, c := newMobyClient(t)
		created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       "web",
			Config:     &containertypes.Config{Image: "busybox", Cmd: []string{"true"}},
			HostConfig: &containertypes.HostConfig{ReadonlyRootfs: true, Tmpfs: map[string]string{"/tmp": "size=64m"}},
		})
		assert.NilError(t, err)
		assert.Equal(t, created.ID, "c0ffee")
		assert.DeepEqual(t, created.Warnings, []string{})
		assert.Equal(t, fb.lastCall(), "ContainerCreate web")
		assert.Check(t, fb.createHC.ReadonlyRootfs)

		list, err := c.ContainerList(ctx, client.ContainerListOptions{
			All:     true,
			Filters: make(client.Filters).Add("label", "a=b").Add("name", "web"),
		})
		assert.NilError(t, err)
		assert.Equal(t, len(list.Items), 1)
		assert.Equal(t, list.Items[0].Names[0], "/web")
		assert.DeepEqual(t, fb.listOpts, ListOptions{All: true, Filters: Filters{"label": {"a=b"}, "name": {"web"}}})

		result := make(chan containertypes.WaitResponse, 1)
		fb.waitFn = func(context.Context, string, containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
			return result, nil
		}
		wait := c.ContainerWait(ctx, "web", client.ContainerWaitOptions{Condition: containertypes.WaitConditionNextExit})
		// ContainerWait returns once the header arrived, before the exit.
		assert.Equal(t, fb.lastCall(), "ContainerWait web next-exit")
		result <- containertypes.WaitResponse{StatusCode: 42}
		select {
		case res := <-wait.Result:
			assert.Equal(t, res.StatusCode, int64(42))
			assert.Check(t, res.Error == nil)
		case err := <-wait.Error:
			t.Fatalf("wait failed: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("no wait result")
		}
	})

	t.Run("errors keep their class", func(t *testing.T) {
		fb, c := newMobyClient(t)
		fb.err = errdefs.ErrNotFound.WithMessage("No such container: web")
		_, err := c.ContainerInspect(ctx, "web", client.ContainerInspectOptions{})
		assert.Check(t, errdefs.IsNotFound(err), "err: %v", err)
		assert.ErrorContains(t, err, "No such container: web")

		fb.err = errdefs.ErrNotModified
		_, err = c.ContainerStart(ctx, "web", client.ContainerStartOptions{})
		assert.NilError(t, err) // 304 is success for the client
	})

	t.Run("logs", func(t *testing.T) {
		fb, c := newMobyClient(t)
		fb.logsFn = func(context.Context, string, LogsOptions) (<-chan LogMessage, bool, error) {
			ch := make(chan LogMessage, 2)
			ch <- LogMessage{Stream: "stdout", Line: []byte("out\n")}
			ch <- LogMessage{Stream: "stderr", Line: []byte("err\n")}
			close(ch)
			return ch, false, nil
		}
		rc, err := c.ContainerLogs(ctx, "web", client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
		assert.NilError(t, err)
		defer rc.Close()
		var stdout, stderr bytes.Buffer
		_, err = stdcopy.StdCopy(&stdout, &stderr, rc)
		assert.NilError(t, err)
		assert.Equal(t, stdout.String(), "out\n")
		assert.Equal(t, stderr.String(), "err\n")
	})

	t.Run("attach", func(t *testing.T) {
		fb, c := newMobyClient(t)
		fb.attachFn = func(_ context.Context, _ string, opts AttachOptions) error {
			streams, err := opts.GetStreams(false)
			if err != nil {
				return err
			}
			b, err := io.ReadAll(streams.Stdin)
			if err != nil {
				return err
			}
			_, _ = streams.Stdout.Write(bytes.ToUpper(b))
			_, _ = io.WriteString(streams.Stderr, "done\n")
			return nil
		}
		res, err := c.ContainerAttach(ctx, "web", client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
		assert.NilError(t, err)
		defer res.Close()
		mt, ok := res.MediaType()
		assert.Check(t, ok)
		assert.Equal(t, mt, "application/vnd.docker.multiplexed-stream")
		_, err = io.WriteString(res.Conn, "shout\n")
		assert.NilError(t, err)
		assert.NilError(t, res.CloseWrite())
		var stdout, stderr bytes.Buffer
		_, err = stdcopy.StdCopy(&stdout, &stderr, res.Reader)
		assert.NilError(t, err)
		assert.Equal(t, stdout.String(), "SHOUT\n")
		assert.Equal(t, stderr.String(), "done\n")
	})

	t.Run("images with slashes, volumes, networks", func(t *testing.T) {
		fb, c := newMobyClient(t)
		_, err := c.ImageInspect(ctx, "docker.io/library/busybox:latest")
		assert.NilError(t, err)
		assert.Equal(t, fb.lastCall(), "ImageInspect docker.io/library/busybox:latest")

		load, err := c.ImageLoad(ctx, strings.NewReader("tar"))
		assert.NilError(t, err)
		b, err := io.ReadAll(load)
		assert.NilError(t, err)
		assert.Equal(t, string(b), `{"stream":"Loaded image: busybox:latest\n"}`+"\r\n")

		vols, err := c.VolumeList(ctx, client.VolumeListOptions{})
		assert.NilError(t, err)
		assert.Equal(t, len(vols.Items), 1)
		assert.Equal(t, vols.Items[0].Name, "data")

		nets, err := c.NetworkList(ctx, client.NetworkListOptions{})
		assert.NilError(t, err)
		var names []string
		for _, n := range nets.Items {
			names = append(names, n.Name+"/"+n.Driver)
		}
		assert.DeepEqual(t, names, []string{"bridge/bridge", "host/host", "none/null"})
	})
}
