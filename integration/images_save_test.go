package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestSaveOCILayout: berth save and docker save (through berthd) write an
// archive that is a docker-archive and an OCI image layout at once, as
// docker save 25+ does: skopeo reads it both ways, and load gives back the
// same image ID. An OCI archive skopeo wrote (gzip layers) loads too.
func TestSaveOCILayout(t *testing.T) {
	harness.RequireTool(t, "skopeo")
	d := harness.NewWithImage(t)
	dir := t.TempDir()
	id := d.OK(t, "inspect", "--format", "{{.ID}}", "busybox")
	skopeo := func(args ...string) string {
		t.Helper()
		res := harness.Run(t, harness.Command{Bin: "skopeo", Args: args, Timeout: time.Minute})
		assert.Assert(t, res.ExitCode == 0, "skopeo %s: %s", strings.Join(args, " "), res.Combined())
		return res.Stdout
	}
	saved := filepath.Join(dir, "saved.tar")
	d.OK(t, "save", "-o", saved, "busybox")
	names := tarNames(t, saved)
	for _, n := range []string{"oci-layout", "index.json", "manifest.json", "repositories", "blobs/sha256/" + strings.TrimPrefix(id, "sha256:")} {
		assert.Check(t, is.Contains(names, n))
	}
	for _, n := range names {
		assert.Check(t, !strings.HasSuffix(n, "layer.tar"), "legacy layer file %s", n)
	}
	var inspect struct {
		Digest string
		Layers []string
	}
	assert.NilError(t, json.Unmarshal([]byte(skopeo("inspect", "oci-archive:"+saved)), &inspect))
	diffIDs := d.OK(t, "inspect", "--format", "{{json .RootFS.Layers}}", "busybox")
	layers, err := json.Marshal(inspect.Layers)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(layers), diffIDs), "OCI layers are the uncompressed layer tars")
	cfg := skopeo("inspect", "--config", "--raw", "docker-archive:"+saved)
	assert.Check(t, is.Contains(cfg, diffIDs[2:len(diffIDs)-2]))
	layout := filepath.Join(dir, "layout")
	skopeo("copy", "oci-archive:"+saved, "oci:"+layout+":copy")

	d.OK(t, "rmi", "busybox")
	out := d.OK(t, "load", "-i", saved)
	assert.Check(t, is.Contains(out, "Loaded image: busybox:latest"))
	assert.Equal(t, d.OK(t, "inspect", "--format", "{{.ID}}", "busybox"), id)

	// An OCI archive skopeo wrote, with gzip layers and a name.
	ociArchive := filepath.Join(dir, "skopeo-oci.tar")
	skopeo("copy", "--dest-compress", "docker-archive:"+harness.TestImage(t), "oci-archive:"+ociArchive+":fromoci:v1")
	out = d.OK(t, "load", "-i", ociArchive)
	assert.Check(t, is.Contains(out, "Loaded image: fromoci:v1"))
	// (skopeo rewrites the config for OCI: another image ID.)
	assert.Equal(t, d.OK(t, "run", "--rm", "fromoci:v1", "echo", "from oci"), "from oci")

	harness.RequireTool(t, harness.DockerCLI)
	viaDocker := filepath.Join(dir, "docker.tar")
	res := d.Docker(t, harness.DockerCLI, "save", "-o", viaDocker, "busybox")
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	skopeo("inspect", "oci-archive:"+viaDocker)
	d.OK(t, "rmi", "busybox", "fromoci:v1")
	res = d.Docker(t, harness.DockerCLI, "load", "-i", viaDocker)
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "Loaded image: busybox:latest"))
	assert.Equal(t, d.OK(t, "inspect", "--format", "{{.ID}}", "busybox"), id)
	_, err = os.Stat(saved)
	assert.NilError(t, err)
}
