package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/container"
	"github.com/berth-project/berth/integration/internal/harness"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// TestLogRotation: json-file with max-size=1k and max-file=2 keeps at most
// two files of at most 1 kB, and `logs` reads across them, ending with the
// last line.
func TestLogRotation(t *testing.T) {
	d := harness.NewWithImage(t)
	d.OK(t, "run", "--name", "rot", "--network", "none", "--log-driver", "json-file", "--log-opt", "max-size=1k", "--log-opt", "max-file=2",
		"busybox", "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done")
	logPath := d.Inspect(t, "rot", "{{.LogPath}}")
	files, err := filepath.Glob(logPath + "*")
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(files, []string{logPath, logPath + ".1"}))
	assert.Check(t, is.Equal(d.Inspect(t, "rot", "{{json .HostConfig.LogConfig}}"), `{"Type":"json-file","Config":{"max-file":"2","max-size":"1k"}}`))

	out := strings.Split(strings.TrimSpace(d.OK(t, "logs", "rot")), "\n")
	assert.Assert(t, len(out) > 10 && len(out) < 300, "%d lines", len(out))
	// The tail, in order, with nothing missing between the two files.
	first := 300 - len(out)
	for i, l := range out {
		assert.Check(t, is.Equal(l, fmt.Sprintf("line%d", first+i)))
	}
	assert.Check(t, is.Equal(d.OK(t, "logs", "--tail", "2", "rot"), "line298\nline299"))

	// local keeps json-file storage with local's options.
	d.OK(t, "run", "--name", "loc", "--network", "none", "--log-driver", "local", "--log-opt", "max-size=1k", "busybox", "echo", "local works")
	assert.Check(t, is.Equal(d.OK(t, "logs", "loc"), "local works"))
}

// TestLogDriverNone: nothing stored, `logs` refuses as Docker, inspect
// shows no log path; the output still reaches an attached client.
func TestLogDriverNone(t *testing.T) {
	d := harness.NewWithImage(t)
	assert.Check(t, is.Equal(d.OK(t, "run", "--name", "quiet", "--network", "none", "--log-driver", "none", "busybox", "echo", "seen"), "seen"))
	d.Fails(t, 1, []string{"configured logging driver does not support reading"}, "logs", "quiet")
	r := d.API(t, "GET", "/containers/quiet/logs?stdout=1", nil)
	assert.Check(t, is.Equal(r.Status, 501))
	assert.Check(t, is.Equal(r.Message(), "configured logging driver does not support reading"))
	assert.Check(t, is.Equal(d.Inspect(t, "quiet", "{{.LogPath}}"), ""))
	files, _ := filepath.Glob(filepath.Join(d.DataRoot, "containers", "*", "*-json.log*"))
	assert.Check(t, is.Len(files, 0))
}

// TestLogDriverBadInput: other drivers and unknown or bad options are 400s
// at create that leave nothing behind.
func TestLogDriverBadInput(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.Snapshot(t)
	for _, tc := range []struct {
		lc   map[string]any
		want string
	}{
		{map[string]any{"Type": "syslog"}, "logger: no log driver named 'syslog' is registered"},
		{map[string]any{"Type": "json-file", "Config": map[string]string{"foo": "bar"}}, "unknown log opt 'foo' for json-file log driver"},
		{map[string]any{"Type": "json-file", "Config": map[string]string{"max-size": "huge"}}, `invalid max-size "huge"`},
		{map[string]any{"Type": "json-file", "Config": map[string]string{"max-file": "0"}}, "max-file cannot be less than 1"},
		{map[string]any{"Type": "json-file", "Config": map[string]string{"compress": "true"}}, "log opt 'compress' of the json-file log driver is not supported by berth"},
		{map[string]any{"Type": "none", "Config": map[string]string{"max-size": "1k"}}, "unknown log opt 'max-size' for none log driver"},
	} {
		r := d.API(t, "POST", "/containers/create", map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "HostConfig": map[string]any{"LogConfig": tc.lc}})
		assert.Check(t, is.Equal(r.Status, 400), "%s", r.Body)
		assert.Check(t, is.Contains(r.Message(), tc.want))
	}
	d.Fails(t, 125, []string{"logger: no log driver named 'gelf' is registered"}, "create", "--log-driver", "gelf", "busybox")
	d.AssertUnchanged(t, before, "bad log configurations")
}

// TestDaemonLogDefaults: berthd --log-driver/--log-opt apply to containers
// that set none.
func TestDaemonLogDefaults(t *testing.T) {
	d := harness.NewWithImage(t, harness.WithArgs("--log-driver", "json-file", "--log-opt", "max-size=2k"))
	d.OK(t, "create", "--name", "dflt", "busybox", "true")
	assert.Check(t, is.Equal(d.Inspect(t, "dflt", "{{json .HostConfig.LogConfig}}"), `{"Type":"json-file","Config":{"max-size":"2k"}}`))
}

// TestLogsFollowThenRemove: docker-py's `containers.run` asks for the
// followed log, waits, removes the container, and only then reads the
// log's body. The records must all be there.
func TestLogsFollowThenRemove(t *testing.T) {
	d := harness.NewWithImage(t)
	c := d.Client(t)
	ctx := context.Background()
	for i := range 10 {
		id := container.Run(ctx, t, c, container.WithCmd("echo", fmt.Sprintf("round %d", i)), container.WithNetworkMode("none"))
		body, err := c.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, Follow: true})
		assert.NilError(t, err)
		wait := c.ContainerWait(ctx, id, client.ContainerWaitOptions{})
		select {
		case res := <-wait.Result:
			assert.Equal(t, res.StatusCode, int64(0))
		case err := <-wait.Error:
			t.Fatal(err)
		}
		_, err = c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{})
		assert.NilError(t, err)
		var out bytes.Buffer
		_, err = stdcopy.StdCopy(&out, io.Discard, body)
		body.Close()
		assert.NilError(t, err)
		assert.Equal(t, out.String(), fmt.Sprintf("round %d\n", i))
	}
}
