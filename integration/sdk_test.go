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
