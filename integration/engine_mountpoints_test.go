package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/harness"
)

// Containers of one image with the same mount points share one
// mount-point layer, which holds what they need; another list of mount
// points gets another layer; the layers go with their image, and restore
// deletes unfinished builds and the layers of images that are gone.
func TestEngineMountpointLayers(t *testing.T) {
	d := harness.NewWithImage(t)
	layerOf := func(name string) string {
		lower := d.Inspect(t, name, "{{.GraphDriver.Data.LowerDir}}")
		first, _, _ := strings.Cut(lower, ":")
		return first
	}
	base := d.OK(t, "create", "busybox", "true")
	img := d.OK(t, "commit", base, "mplayers:1")
	d.OK(t, "rm", base)
	imgDir := filepath.Join(d.DataRoot, "mountpoints", strings.TrimPrefix(img, "sha256:"))

	d.OK(t, "create", "--name", "mp-a", "--read-only", "--tmpfs", "/data/cache", "mplayers:1", "true")
	d.OK(t, "create", "--name", "mp-b", "--read-only", "--tmpfs", "/data/cache", "mplayers:1", "true")
	d.OK(t, "create", "--name", "mp-c", "--read-only", "--tmpfs", "/other", "mplayers:1", "true")
	la, lb, lc := layerOf("mp-a"), layerOf("mp-b"), layerOf("mp-c")
	assert.Equal(t, la, lb, "same image and mount points, different layers")
	assert.Assert(t, la != lc, "different mount points, same layer %s", la)
	assert.Equal(t, filepath.Dir(la), imgDir)
	for _, p := range []string{"data/cache", "proc", "etc/hosts"} {
		_, err := os.Lstat(filepath.Join(la, p))
		assert.NilError(t, err, "mount point %s missing from the shared layer", p)
	}
	_, err := os.Lstat(filepath.Join(lc, "data"))
	assert.Assert(t, os.IsNotExist(err), "c's layer has a's mount points: %v", err)

	// The layer outlives one of its containers, and runs for the other.
	d.OK(t, "rm", "mp-a")
	assert.Equal(t, d.OK(t, "start", "-a", "mp-b"), "")
	_, err = os.Lstat(la)
	assert.NilError(t, err)

	// Restore deletes an unfinished build and the layers of a gone image.
	assert.NilError(t, os.MkdirAll(filepath.Join(imgDir, "0123.tmp", "proc"), 0o755))
	gone := filepath.Join(d.DataRoot, "mountpoints", strings.Repeat("ab", 32))
	assert.NilError(t, os.MkdirAll(filepath.Join(gone, "key", "proc"), 0o755))
	d.Restart(t)
	for _, p := range []string{filepath.Join(imgDir, "0123.tmp"), gone} {
		_, err := os.Lstat(p)
		assert.Assert(t, os.IsNotExist(err), "%s left after restore: %v", p, err)
	}
	_, err = os.Lstat(la)
	assert.NilError(t, err, "restore deleted a layer in use")

	// An image in use keeps its layers; removed, it takes them along.
	d.Fails(t, 1, []string{"conflict"}, "rmi", "mplayers:1")
	d.OK(t, "rm", "mp-b", "mp-c")
	d.OK(t, "rmi", "mplayers:1")
	_, err = os.Lstat(imgDir)
	assert.Assert(t, os.IsNotExist(err), "the layers of a removed image are left: %v", err)
}
