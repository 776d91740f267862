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

const commandsSDKScript = `
import io, sys, tarfile
import docker

c = docker.DockerClient(base_url=sys.argv[1])
with open(sys.argv[2], "rb") as f:
    c.images.load(f.read())

ct = c.containers.run("busybox", ["sh", "-c", "echo x > /tmp/new; rm /etc/group"], name="sdk-w", detach=True)
ct.wait(timeout=30)
ct.rename("sdk-renamed")
ct.reload()
print("renamed", ct.name)
print("diff", sorted((d["Kind"], d["Path"]) for d in ct.diff()))

img = ct.commit(repository="sdk/img", tag="v1", message="from sdk", author="me", changes=["ENV FOO=bar"])
print("run", c.containers.run("sdk/img:v1", ["sh", "-c", "cat /tmp/new; echo $FOO"], remove=True).decode().split())
print("history", img.history()[0]["Comment"], len(img.history()) >= 2)

data = b"".join(ct.export())
names = tarfile.open(fileobj=io.BytesIO(data)).getnames()
print("export", "tmp/new" in names, "etc/group" in names)

saved = b"".join(img.save(named=True))
c.images.remove("sdk/img:v1")
loaded = c.images.load(saved)
print("load", [t for i in loaded for t in i.tags], loaded[0].id == img.id)

c.volumes.create("sdk-named")
c.containers.create("busybox", "true", volumes=["/anon"], name="sdk-anon")
keep = c.containers.run("busybox", "sleep 300", detach=True, name="sdk-keep")
df = c.df()
print("df", len(df["Images"]), len(df["Containers"]), len(df["Volumes"]), df["LayersSize"] > 0)
rep = c.containers.prune()
print("containers prune", len(rep["ContainersDeleted"]), "SpaceReclaimed" in rep)
print("kept", [x.name for x in c.containers.list(all=True)])
rep = c.volumes.prune()
print("volumes prune", len(rep["VolumesDeleted"] or []), "sdk-named" in (rep["VolumesDeleted"] or []))
rep = c.volumes.prune(filters={"all": True})
print("volumes prune all", rep["VolumesDeleted"])
rep = c.images.prune(filters={"dangling": False})
print("images prune", sorted(d.get("Untagged", "") for d in rep["ImagesDeleted"] if "Untagged" in d))
print("images", sorted(t for i in c.images.list() for t in i.tags))
print("plugins", c.plugins.list())
for name, call in (("swarm", c.swarm.reload), ("nodes", c.nodes.list), ("services", c.services.list)):
    try:
        call()
    except docker.errors.APIError as e:
        print(name, e.status_code, e.explanation)
keep.remove(force=True)
`

// TestCommandsSDKPython drives the everyday commands through Debian's
// Python Docker SDK: rename, diff, commit then run, history, export, save
// then load (same ID), df, the prunes (a running container and the image
// it uses stay; named volumes only with the "all" filter), plugins, and
// swarm's 503.
func TestCommandsSDKPython(t *testing.T) {
	harness.RequireTool(t, sdkPython)
	d := harness.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, sdkPython, "-c", commandsSDKScript, d.Host(), harness.TestImage(t)).CombinedOutput()
	assert.NilError(t, err, string(out))
	got := string(out)
	for _, want := range []string{
		"renamed sdk-renamed\n",
		"diff [(0, '/etc'), (0, '/tmp'), (1, '/tmp/new'), (2, '/etc/group')]\n",
		"run ['x', 'bar']\n",
		"history from sdk True\n",
		"export True False\n",
		"load ['sdk/img:v1'] True\n",
		"df 2 3 2 True\n",
		"containers prune 2 True\n",
		"kept ['sdk-keep']\n",
		// API 1.42+ (the SDK negotiates 1.47): named volumes only with all.
		"volumes prune 1 False\n",
		"volumes prune all ['sdk-named']\n",
		"images prune ['sdk/img:v1']\n",
		"images ['busybox:latest']\n",
		"plugins []\n",
		`swarm 503 This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.` + "\n",
		"nodes 503 This node is not a swarm manager.",
		"services 503 This node is not a swarm manager.",
	} {
		assert.Check(t, is.Contains(got, want))
	}
}
