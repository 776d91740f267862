package integration

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestAPISemanticsRefusals: a field Berth does not support is a 400 at
// create that names it, through the API and both docker CLIs, and the
// refused create leaves no container behind. Create validates the
// environment as Docker does.
func TestAPISemanticsRefusals(t *testing.T) {
	tg := harness.NewTarget(t)
	for _, tc := range []struct {
		hostConfig map[string]any
		config     map[string]any
		want       string
	}{
		{hostConfig: map[string]any{"VolumesFrom": []string{"other"}}, want: "HostConfig.VolumesFrom is not supported by berth"},
		{hostConfig: map[string]any{"Devices": []map[string]string{{"PathOnHost": "/dev/null", "PathInContainer": "/dev/x", "CgroupPermissions": "rwm"}}}, want: "HostConfig.Devices is not supported by berth"},
		{hostConfig: map[string]any{"StorageOpt": map[string]string{"size": "1G"}}, want: "HostConfig.StorageOpt is not supported by berth"},
		{hostConfig: map[string]any{"CgroupnsMode": "private"}, want: "HostConfig.CgroupnsMode is not supported by berth"},
		{config: map[string]any{"NetworkDisabled": true}, want: "Config.NetworkDisabled is not supported by berth"},
		{config: map[string]any{"Env": []string{"A=1", "=foo"}}, want: "invalid environment variable: =foo"},
		{config: map[string]any{"StopSignal": "SIGNOPE"}, want: "invalid signal: SIGNOPE"},
	} {
		body := map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "HostConfig": tc.hostConfig}
		for k, v := range tc.config {
			body[k] = v
		}
		r := tg.API(t, "POST", "/containers/create?name=refused", body)
		assert.Check(t, is.Equal(r.Status, 400), "%s: %s", tc.want, r.Body)
		assert.Check(t, is.Contains(r.Message(), tc.want))
	}
	r := tg.API(t, "GET", "/containers/json?all=1", nil)
	assert.Check(t, is.Equal(strings.TrimSpace(string(r.Body)), "[]"), "a refused create left a container")

	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		c.Fails(t, 125, "HostConfig.VolumesFrom is not supported by berth", "run", "--volumes-from", "other", "busybox", "true")
		c.Fails(t, 1, "HostConfig.Devices is not supported by berth", "create", "--device", "/dev/null:/dev/x", "busybox", "true")
		c.Fails(t, 1, "HostConfig.CgroupnsMode is not supported by berth", "create", "--cgroupns", "private", "busybox", "true")
	})
}

// TestAPISemanticsInspect: what clients read. version has Docker's
// component details, inspect and ps report sizes with size=1, IpcMode and
// a cleaned WorkingDir; create answers without a made-up warning; a
// ConsoleSize given at create is the TTY's size.
func TestAPISemanticsInspect(t *testing.T) {
	tg := harness.NewTarget(t)
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		assert.Check(t, is.Equal(c.OK(t, "version", "--format", "{{.Server.Experimental}}"), "false\n"))
		comps := c.OK(t, "version", "--format", "{{range .Server.Components}}{{.Name}}={{.Version}} {{end}}")
		assert.Check(t, is.Regexp(`Engine=\S+ .*runc=1\.`, comps))

		name := c.Name("sized")
		c.OK(t, "run", "--name", name, "-w", "/srv//data/../app/", "busybox", "sh", "-c", "head -c 300000 /dev/zero > /big")
		defer c.Run(t, "rm", name)
		assert.Check(t, is.Equal(c.Inspect(t, name, "{{.Config.WorkingDir}} {{.HostConfig.IpcMode}}"), "/srv/app private"))
		var sizes struct{ SizeRw, SizeRootFs int64 }
		tg.API(t, "GET", "/containers/"+name+"/json?size=1", nil).Decode(t, 200, &sizes)
		assert.Check(t, sizes.SizeRw >= 300000 && sizes.SizeRw < 400000, "SizeRw %d", sizes.SizeRw)
		assert.Check(t, sizes.SizeRootFs > sizes.SizeRw+1000000, "SizeRootFs %d, SizeRw %d", sizes.SizeRootFs, sizes.SizeRw)
		assert.Check(t, is.Regexp(`^30\d\.?\d*kB \(virtual \d`, c.OK(t, "ps", "-a", "--size", "--filter", "name="+name, "--format", "{{.Size}}")))
		assert.Check(t, is.Contains(c.OK(t, "inspect", "--size", "--format", "{{.SizeRw}}", name), "300"))
	})

	// Without a size query, inspect has no sizes (as in Docker).
	r := tg.API(t, "POST", "/containers/create?name=tty", map[string]any{
		"Image": "busybox", "Cmd": []string{"stty", "size"}, "Tty": true,
		"HostConfig": map[string]any{"ConsoleSize": []uint{33, 101}, "NetworkMode": "none"},
	})
	var created struct{ Warnings []string }
	r.Decode(t, 201, &created)
	assert.Check(t, is.Len(created.Warnings, 0))
	assert.Check(t, !strings.Contains(string(tg.API(t, "GET", "/containers/tty/json", nil).Body), "SizeRw"))
	assert.Equal(t, tg.API(t, "POST", "/containers/tty/start", nil).Status, 204)
	tg.API(t, "POST", "/containers/tty/wait", nil).Decode(t, 200, &struct{}{})
	logs := tg.API(t, "GET", "/containers/tty/logs?stdout=1", nil)
	assert.Check(t, is.Equal(string(logs.Body), "33 101\r\n"))
}

// hangUp sends a request and closes the connection as soon as it is
// written, as a client that gives up does.
func hangUp(t *testing.T, sock, method, path string) {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	assert.NilError(t, err)
	_, err = fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: engine\r\nContent-Length: 0\r\n\r\n", method, path)
	assert.NilError(t, err)
	conn.Close()
}

// TestAPISemanticsClientGone: a stop or restart goes on to the end when
// the client that asked for it hangs up: the container ignoring SIGTERM
// is killed after the timeout all the same. A kill returns once the
// container is marked exited.
func TestAPISemanticsClientGone(t *testing.T) {
	d := harness.NewWithImage(t)
	stubborn := []string{"sh", "-c", "trap '' TERM; while true; do sleep 1; done"}
	d.OK(t, append([]string{"run", "-d", "--name", "stop", "--network", "none", "busybox"}, stubborn...)...)
	d.OK(t, append([]string{"run", "-d", "--name", "restart", "--network", "none", "busybox"}, stubborn...)...)
	started := d.Inspect(t, "restart", "{{.State.StartedAt}}")

	hangUp(t, d.Sock, "POST", "/containers/stop/stop?t=1")
	hangUp(t, d.Sock, "POST", "/containers/restart/restart?t=1")
	d.WaitState(t, "stop", "exited")
	assert.Check(t, is.Equal(d.Inspect(t, "stop", "{{.State.ExitCode}}"), "137"))
	harness.Poll(t, func() (bool, string) {
		now := d.Inspect(t, "restart", "{{.State.Status}} {{.State.StartedAt}}")
		return strings.HasPrefix(now, "running ") && now != "running "+started, "restart: " + now
	})
	d.OK(t, "rm", "-f", "stop", "restart")

	// kill returns once the container is marked exited, a paused one too:
	// rm right after it finds the container stopped.
	for _, paused := range []bool{false, true} {
		d.OK(t, "run", "-d", "--name", "killed", "--network", "none", "busybox", "sleep", "300")
		if paused {
			d.OK(t, "pause", "killed")
		}
		d.OK(t, "kill", "killed")
		assert.Check(t, is.Equal(d.Inspect(t, "killed", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137"), "paused %v", paused)
		d.OK(t, "rm", "killed")
	}
}

const sdkSemanticsScript = `
import sys, time
import docker

c = docker.DockerClient(base_url=sys.argv[1])

# kill returns once the container is marked exited: rm never answers 409.
for i in range(5):
    ct = c.containers.run("busybox", ["sleep", "300"], detach=True, network_mode="none")
    ct.kill()
    ct.remove()
print("kill-rm ok")

# start returns once the user's process replaced the runtime's init.
inits = 0
for i in range(5):
    ct = c.containers.create("busybox", ["sleep", "300"], network_mode="none")
    ct.start()
    procs = ct.top()["Processes"]
    inits += sum(1 for p in procs if "init" in " ".join(p))
    if not any("sleep 300" in " ".join(p) for p in procs):
        print("top without the process", procs)
    ct.remove(force=True)
print("runtime inits", inits)

# exec start honours its own Tty: multiplexing follows the start request.
ct = c.containers.run("busybox", ["sleep", "300"], detach=True, network_mode="none")
eid = c.api.exec_create(ct.id, ["echo", "hi"], tty=True)["Id"]
print("tty exec, plain start", repr(c.api.exec_start(eid, tty=False)))
eid = c.api.exec_create(ct.id, ["sh", "-c", "echo out; echo err >&2"], tty=False)["Id"]
print("plain exec, tty start", sorted(c.api.exec_start(eid, tty=True).split()))
eid = c.api.exec_create(ct.id, ["sh", "-c", "echo out; echo err >&2"], tty=False)["Id"]
print("plain exec, demux", c.api.exec_start(eid, tty=False, demux=True))
ct.remove(force=True)

# A non-streaming attach with logs=1 returns what the container logged.
ct = c.containers.run("busybox", ["sh", "-c", "echo hello; echo oops >&2; sleep 300"], detach=True, network_mode="none")
while b"oops" not in ct.logs():
    time.sleep(0.05)
print("attach logs", sorted(ct.attach(stdout=True, stderr=True, logs=True, stream=False).split(b"\n")))
ct.remove(force=True)

# An AutoRemove container can be restarted while it runs.
ct = c.containers.run("busybox", ["sleep", "300"], detach=True, auto_remove=True, network_mode="none")
ct.restart(timeout=0)
ct.reload()
print("auto-remove restarted", ct.status)
ct.kill()
try:
    ct.wait(condition="removed")
except docker.errors.NotFound:
    pass  # already removed
try:
    c.containers.get(ct.id)
except docker.errors.NotFound:
    print("auto-remove gone")
`

// TestAPISemanticsSDKPython checks, with the Python SDK, the semantics
// SDKs rely on: kill then remove, start then top, exec start's Tty,
// attach with logs and no stream, restart of an AutoRemove container.
func TestAPISemanticsSDKPython(t *testing.T) {
	harness.RequireTool(t, sdkPython)
	d := harness.NewWithImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, sdkPython, "-c", sdkSemanticsScript, d.Host()).CombinedOutput()
	assert.NilError(t, err, string(out))
	got := string(out)
	assert.Check(t, is.Contains(got, "kill-rm ok\n"))
	assert.Check(t, is.Contains(got, "runtime inits 0\n"))
	assert.Check(t, !strings.Contains(got, "top without the process"), got)
	assert.Check(t, is.Contains(got, "tty exec, plain start b'hi\\r\\n'\n"))
	assert.Check(t, is.Contains(got, "plain exec, tty start [b'err', b'out']\n"))
	assert.Check(t, is.Contains(got, "plain exec, demux (b'out\\n', b'err\\n')\n"))
	assert.Check(t, is.Contains(got, "attach logs [b'', b'hello', b'oops']\n"))
	assert.Check(t, is.Contains(got, "auto-remove restarted running\n"))
	assert.Check(t, is.Contains(got, "auto-remove gone\n"))
}
