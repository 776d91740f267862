package integration

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// sdkPython is the interpreter of Debian's python3-docker (5.0.3), not a
// python on PATH that may carry another version of the SDK.
const sdkPython = "/usr/bin/python3"

const sdkScript = `
import sys
import docker

c = docker.DockerClient(base_url=sys.argv[1])
print("version", docker.__version__)
with open(sys.argv[2], "rb") as f:
    images = c.images.load(f.read())
print("loaded", sorted(t for i in images for t in i.tags))

out = c.containers.run("busybox", "cat /proc/mounts", read_only=True,
                       tmpfs={"/run": "", "/tmp": "size=1m"}, remove=True)
for line in out.decode().splitlines():
    f = line.split()
    if f[1] in ("/", "/run", "/tmp"):
        print("mount", f[1], f[2], f[3])

ct = c.containers.create("busybox", ["sh", "-c", "echo out; echo err >&2; exit 4"],
                         labels={"sdk": "yes"}, read_only=True, tmpfs={"/tmp": ""})
print("created", ct.status, ct.labels["sdk"])
ct.start()
print("wait", ct.wait(timeout=30)["StatusCode"])
print("stdout", ct.logs(stdout=True, stderr=False).decode().strip())
print("stderr", ct.logs(stdout=False, stderr=True).decode().strip())
ct.reload()
print("state", ct.status, ct.attrs["State"]["ExitCode"])
ct.remove()
print("left", len(c.containers.list(all=True)))
try:
    c.containers.get(ct.id)
except docker.errors.NotFound:
    print("gone")
`

// TestSDKPython drives berthd with Debian's Python Docker SDK: images.load,
// containers.run with read_only and tmpfs, create, start, wait, logs,
// remove.
func TestSDKPython(t *testing.T) {
	harness.RequireTool(t, sdkPython)
	d := harness.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, sdkPython, "-c", sdkScript, d.Host(), harness.TestImage(t)).CombinedOutput()
	assert.NilError(t, err, string(out))
	got := string(out)
	assert.Check(t, is.Contains(got, "version 5.0.3\n"))
	assert.Check(t, is.Contains(got, "loaded ['busybox:latest']\n"))
	assert.Check(t, is.Regexp(`mount / overlay ro,`, got))
	assert.Check(t, is.Contains(got, "mount /run tmpfs rw,nosuid,nodev,noexec,relatime"))
	assert.Check(t, is.Contains(got, "mount /tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k\n"))
	assert.Check(t, is.Contains(got, "created created yes\n"))
	assert.Check(t, is.Contains(got, "wait 4\n"))
	assert.Check(t, is.Contains(got, "stdout out\n"))
	assert.Check(t, is.Contains(got, "stderr err\n"))
	assert.Check(t, is.Contains(got, "state exited 4\n"))
	assert.Check(t, is.Contains(got, "left 0\ngone\n"))
}

const sdkVolumeScript = `
import sys
import docker

c = docker.DockerClient(base_url=sys.argv[1])
v = c.volumes.create("sdk-tmpfs", driver="local",
                     driver_opts={"type": "tmpfs", "device": "tmpfs", "o": "size=1m,mode=1777"})
print("options", sorted(v.attrs["Options"].items()))
w = c.containers.run("busybox", ["sh", "-c", "echo hi > /v/f; exec sleep 100000"],
                     volumes={"sdk-tmpfs": {"bind": "/v", "mode": "rw"}}, detach=True, network_mode="none")
for _ in range(200):
    out = c.containers.run("busybox", ["sh", "-c", "cat /v/f 2>/dev/null; stat -f -c %T /v"],
                           volumes={"sdk-tmpfs": {"bind": "/v", "mode": "rw"}}, remove=True, network_mode="none")
    if out.decode().startswith("hi"):
        break
print("shared", out.decode().split())
w.remove(force=True)
out = c.containers.run("busybox", ["ls", "-A", "/v"], volumes={"sdk-tmpfs": {"bind": "/v", "mode": "rw"}},
                       remove=True, network_mode="none")
print("after", repr(out.decode()))
try:
    c.volumes.create("sdk-nfs", driver="local", driver_opts={"type": "nfs", "device": ":/x"})
except docker.errors.APIError as e:
    print("refused", e.status_code, e.explanation)
v.remove()
print("volumes", [x.name for x in c.volumes.list()])
`

// TestSDKPythonVolumeOptions: Debian's Python Docker SDK creates a tmpfs
// volume with driver_opts; two containers share it, its content goes with
// its last user, and an nfs volume is refused with a 400 naming it.
func TestSDKPythonVolumeOptions(t *testing.T) {
	harness.RequireTool(t, sdkPython)
	d := harness.NewWithImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, sdkPython, "-c", sdkVolumeScript, d.Host()).CombinedOutput()
	assert.NilError(t, err, string(out))
	got := string(out)
	assert.Check(t, is.Contains(got, "options [('device', 'tmpfs'), ('o', 'size=1m,mode=1777'), ('type', 'tmpfs')]\n"))
	assert.Check(t, is.Contains(got, "shared ['hi', 'tmpfs']\n"))
	assert.Check(t, is.Contains(got, "after ''\n"))
	assert.Check(t, is.Contains(got, `refused 400 volume type "nfs" (type=nfs) is not supported by berth's local driver`))
	assert.Check(t, is.Contains(got, "volumes []\n"))
}
