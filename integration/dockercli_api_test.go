package integration

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestDockerCLIEngineExecAndDetach checks the exec endpoints and the
// daemon's detach keys at the API level, where the docker CLI would hide
// them (it handles detach keys itself).
func TestDockerCLIEngineExecAndDetach(t *testing.T) {
	tg := harness.NewTarget(t)
	c := harness.CLI{Target: tg, Bin: harness.DockerCLI, Prefix: "api"}
	// call sends a JSON request through the API, where the CLIs would hide
	// exec inspect fields, status codes and the daemon's own detach keys;
	// it decodes a successful answer into out (if not nil).
	call := func(method, path, body string, out any) (int, string) {
		t.Helper()
		r := tg.API(t, method, "/v1.41"+path, body)
		if out != nil && r.Status < 300 {
			assert.NilError(t, json.Unmarshal(r.Body, out), "%s", r.Body)
		}
		return r.Status, string(r.Body)
	}
	name := c.RunDetached(t, "exec", "--read-only", "busybox", "sleep", "300")
	id := c.Inspect(t, name, "{{.Id}}")

	var created struct {
		ID string `json:"Id"`
	}
	status, body := call("POST", "/containers/"+name+"/exec", `{"Cmd":["sh","-c","read x; echo got-$x; exit 6"],"AttachStdin":true,"AttachStdout":true,"AttachStderr":true}`, &created)
	assert.Equal(t, status, 201, body)
	var ins containertypes.ExecInspectResponse
	call("GET", "/exec/"+created.ID+"/json", "", &ins)
	assert.Check(t, !ins.Running && ins.ExitCode == nil && ins.Pid == 0, "%+v", ins)
	assert.Check(t, is.Equal(ins.ContainerID, id))
	assert.Check(t, is.Equal(ins.ProcessConfig.Entrypoint, "sh"))
	assert.Check(t, is.DeepEqual(ins.ProcessConfig.Arguments, []string{"-c", "read x; echo got-$x; exit 6"}))
	assert.Check(t, ins.OpenStdin && ins.OpenStdout && ins.OpenStderr)

	conn, br := tg.Hijack(t, "/v1.41/exec/"+created.ID+"/start", `{"Detach":false,"Tty":false}`)
	poll := func(cond func(containertypes.ExecInspectResponse) bool) containertypes.ExecInspectResponse {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var got containertypes.ExecInspectResponse
			call("GET", "/exec/"+created.ID+"/json", "", &got)
			if cond(got) || time.Now().After(deadline) {
				return got
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ins = poll(func(i containertypes.ExecInspectResponse) bool { return i.Running })
	assert.Check(t, ins.Running, "%+v", ins)
	if !tg.IsDocker() { // dockerd 20.10 reports no pid here
		assert.Check(t, ins.Pid > 0, "%+v", ins)
	}
	status, _ = call("POST", "/exec/"+created.ID+"/start", `{"Detach":true}`, nil)
	assert.Check(t, is.Equal(status, http.StatusConflict), "starting a running exec again")
	_, err := io.WriteString(conn, "input\n")
	assert.NilError(t, err)
	out, err := io.ReadAll(br)
	assert.NilError(t, err)
	assert.Equal(t, string(out), "\x01\x00\x00\x00\x00\x00\x00\x0agot-input\n", "one stdout frame")
	ins = poll(func(i containertypes.ExecInspectResponse) bool { return i.ExitCode != nil })
	assert.Check(t, !ins.Running)
	assert.Assert(t, ins.ExitCode != nil)
	assert.Equal(t, *ins.ExitCode, 6)

	status, body = call("GET", "/exec/nosuchexec/json", "", nil)
	assert.Equal(t, status, 404)
	assert.Check(t, is.Contains(body, "No such exec instance: nosuchexec"))
	status, _ = call("POST", "/containers/"+name+"/exec", `{"Cmd":[]}`, nil)
	assert.Equal(t, status, 400)

	// A TTY exec: raw output, resize, exit code.
	status, body = call("POST", "/containers/"+name+"/exec", `{"Cmd":["sh","-c","sleep 0.5; stty size"],"Tty":true,"AttachStdout":true}`, &created)
	assert.Equal(t, status, 201, body)
	_, br = tg.Hijack(t, "/v1.41/exec/"+created.ID+"/start", `{"Tty":true,"ConsoleSize":[12,34]}`)
	poll(func(i containertypes.ExecInspectResponse) bool { return i.Running })
	status, body = call("POST", "/exec/"+created.ID+"/resize?h=21&w=43", "", nil)
	assert.Equal(t, status, 200, body)
	out, err = io.ReadAll(br)
	assert.NilError(t, err)
	assert.Equal(t, string(out), "21 43\r\n")

	// The daemon's detach keys end an attach to a TTY container; the
	// container runs on.
	tty := c.Name("tty")
	c.OK(t, "run", "-d", "-it", "--name", tty, "busybox", "sh")
	conn, br = tg.Hijack(t, "/v1.41/containers/"+tty+"/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-x,x", "")
	_, err = io.WriteString(conn, "echo attached-$((4+4))\r")
	assert.NilError(t, err)
	seen := readUntil(t, br, "attached-8")
	_, err = io.WriteString(conn, "\x18x")
	assert.NilError(t, err)
	assert.NilError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.ReadAll(br)
	assert.NilError(t, err, "the daemon ends the session on the detach keys (seen %q)", seen)
	assert.Equal(t, c.Inspect(t, tty, "{{.State.Running}}"), "true")
	status, body = call("POST", "/containers/"+tty+"/attach?stream=1&stdin=1&detachKeys=ctrl-1", "", nil)
	assert.Check(t, is.Equal(status, 400), body)

	// Exec in a stopped container.
	c.OK(t, "kill", name)
	c.WaitFor(t, name, "{{.State.Running}}", "false")
	status, body = call("POST", "/containers/"+name+"/exec", `{"Cmd":["true"]}`, nil)
	assert.Equal(t, status, 409)
	assert.Check(t, is.Contains(strings.ToLower(body), "container "+id+" is not running"))
}

// readUntil reads the stream until it has shown want.
func readUntil(t *testing.T, br *bufio.Reader, want string) string {
	t.Helper()
	var seen strings.Builder
	buf := make([]byte, 1024)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(seen.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("stream did not show %q; got %q", want, seen.String())
		}
		n, err := br.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("stream ended before showing %q: %v; got %q", want, err, seen.String())
		}
	}
	return seen.String()
}
