package integration

import (
	"archive/tar"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/berth-project/berth/integration/internal/container"
	cerrdefs "github.com/containerd/errdefs"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/harness"
)

// tfCopyUpImage has what copy-up must reproduce exactly under /run:
// symlinks pointing out of the directory and out of the root, hardlinks, an
// extended attribute, owners, modes and times; an image VOLUME at /data
// with content; and /srv, a symlink to /run.
var tfCopyUpImage = []harness.TarEntry{
	{Name: "run", Type: tar.TypeDir, Mode: 0o755},
	{Name: "run/evil", Type: tar.TypeSymlink, Link: "/etc"},
	{Name: "run/evil2", Type: tar.TypeSymlink, Link: "../../../../host"},
	{Name: "run/h1", Type: tar.TypeReg, Body: "hard\n", Mode: 0o640, UID: 1000, GID: 1000},
	{Name: "run/h2", Type: tar.TypeLink, Link: "run/h1", Mode: 0o640, UID: 1000, GID: 1000}, // tar writers repeat the metadata
	{Name: "run/x", Type: tar.TypeReg, Body: "x\n", Mode: 0o644, Xattrs: map[string]string{"user.berth": "copied"}},
	{Name: "run/sub", Type: tar.TypeDir, Mode: 0o710, UID: 1000, GID: 1000},
	{Name: "run/sub/deep", Type: tar.TypeReg, Body: "deep\n", Mode: 0o600, UID: 1000, GID: 1000},
	{Name: "data", Type: tar.TypeDir, Mode: 0o750, UID: 1000, GID: 1000},
	{Name: "data/inimage", Type: tar.TypeReg, Body: "volume-content\n", Mode: 0o644},
	{Name: "srv", Type: tar.TypeSymlink, Link: "/run"},
}

// TestTmpfsCopyUp checks on every runtime that the fresh tmpfs receives
// the image's content exactly (symlinks recreated and never followed,
// hardlinks, owners, modes, times, xattrs), that a tmpfs on an image VOLUME
// path replaces the volume (with the image's content, no anonymous
// volume), and that a tmpfs destination that is a symlink in the image is
// refused at create.
func TestTmpfsCopyUp(t *testing.T) {
	d := harness.NewWithImage(t)
	tfBuildImage(t, d, "tfcopyup", []string{"VOLUME /data"}, tfCopyUpImage)
	_, hostHadHost := os.Lstat("/host")

	t.Run("image-volume-without-tmpfs", func(t *testing.T) {
		// Sanity: the VOLUME does make an anonymous volume by itself.
		id := d.OK(t, "create", "--network", "none", "tfcopyup", "true")
		assert.Equal(t, d.OK(t, "inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Destination}}{{end}}", id), "volume /data")
		d.OK(t, "rm", "-v", id)
	})

	d.ForRuntimes(t, func(t *testing.T, rt string) {
		volsBefore := d.OK(t, "volume", "ls", "-q")
		script := `
echo "ls_run=$(ls -A /run | tr '\n' ' ')"
echo "evil=$(readlink /run/evil)"
echo "evil2=$(readlink /run/evil2)"
echo "evil2_follow=$(ls /run/evil2/ 2>&1)"
echo "h=$(stat -c '%i %h' /run/h1) $(stat -c '%i %h' /run/h2)"
echo "h1=$(stat -c '%a %u %g %Y' /run/h1) $(cat /run/h2)"
echo "sub=$(stat -c '%a %u %g %Y' /run/sub)"
echo "deep=$(stat -c '%a %u %g %Y' /run/sub/deep) $(cat /run/sub/deep)"
echo "data=$(cat /data/inimage)"
echo "st_data=$(st /data)"
echo "data_write=$(w /data/new)"
awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts
`
		args := []string{"run", "-d", "--network", "none", "--runtime", rt, "--read-only", "--tmpfs", "/run", "--tmpfs", "/data",
			"tfcopyup", "sh", "-c", tfScript + script + "echo end=1; exec sleep 1000"}
		id := d.OK(t, args...)
		d.WaitLogs(t, id, "end=1")
		kv := tfParse(d.OK(t, "logs", id))
		h := strings.Fields(kv["h"])
		assert.Assert(t, len(h) == 4 && h[0] == h[2] && h[1] == "2" && h[3] == "2", "hardlinks not kept: %q", kv["h"])
		tfCheck(t, kv, []tfWant{
			{Key: "ls_run", Equal: "evil evil2 h1 h2 sub x"},
			{Key: "evil", Equal: "/etc"},
			{Key: "evil2", Equal: "../../../../host"},
			{Key: "evil2_follow", Contains: "No such file or directory"},
			{Key: "h1", Equal: "640 1000 1000 1704067200 hard"},
			{Key: "sub", Equal: "710 1000 1000 1704067200"},
			{Key: "deep", Equal: "600 1000 1000 1704067200 deep"},
			{Key: "data", Equal: "volume-content"},
			{Key: "st_data", Equal: "750 1000 1000"},
			{Key: "data_write", Equal: "ok"},
			{Key: "mnt_/data", Contains: "tmpfs rw,nosuid,nodev,noexec"},
			{Key: "mnt_/run", Contains: "tmpfs rw,nosuid,nodev,noexec"},
		})
		// The extended attribute, read through the container's root.
		pid := d.OK(t, "inspect", "-f", "{{.State.Pid}}", id)
		buf := make([]byte, 64)
		n, err := unix.Lgetxattr(fmt.Sprintf("/proc/%s/root/run/x", pid), "user.berth", buf)
		assert.NilError(t, err, "xattr user.berth not copied up")
		assert.Equal(t, string(buf[:n]), "copied")
		// The tmpfs replaced the image VOLUME: no anonymous volume, and
		// --tmpfs does not appear in .Mounts.
		assert.Equal(t, d.OK(t, "volume", "ls", "-q"), volsBefore)
		assert.Equal(t, d.OK(t, "inspect", "-f", "{{json .Mounts}}", id), "[]")
		d.OK(t, "rm", "-f", id)
		_, hostHasHost := os.Lstat("/host")
		assert.Equal(t, hostHasHost == nil, hostHadHost == nil, "copy-up created /host on the host")
	})

	t.Run("destination-is-symlink", func(t *testing.T) {
		before := d.Snapshot(t)
		d.Fails(t, 125, []string{"Error response from daemon", "tmpfs destination /srv is a symbolic link in the image"},
			"create", "--network", "none", "--tmpfs", "/srv", "tfcopyup", "true")
		_, err := container.TryCreate(context.Background(), d.Client(t), container.WithImage("tfcopyup"), container.WithTmpfsMount("/srv", nil))
		assert.Check(t, cerrdefs.IsInvalidArgument(err), "%v", err)
		assert.ErrorContains(t, err, "/srv is a symbolic link")
		// A path under a symlink that leads nowhere in the image is refused
		// too, rather than hidden behind a new directory.
		d.Fails(t, 125, []string{"/run/evil2 is a symbolic link in the image to a path that does not exist"},
			"create", "--network", "none", "--tmpfs", "/run/evil2/x", "tfcopyup", "true")
		d.AssertUnchanged(t, before, "symlink destination")
	})

	t.Run("nested-in-bind", func(t *testing.T) {
		// Copy-up takes what is below the tmpfs: here a bind mount's
		// content, which the tmpfs then shields from the container's writes.
		dir := t.TempDir()
		assert.NilError(t, os.MkdirAll(dir+"/sub", 0o755))
		assert.NilError(t, os.WriteFile(dir+"/sub/f", []byte("from-bind\n"), 0o644))
		kv := tfRunScript(t, d, "runc", []string{"--read-only", "-v", dir + ":/b", "--tmpfs", "/b/sub"},
			`echo "f=$(cat /b/sub/f)"; echo "w=$(w /b/sub/f)"; echo "new=$(w /b/sub/new)"`)
		tfCheck(t, kv, []tfWant{{Key: "f", Equal: "from-bind"}, {Key: "w", Equal: "ok"}, {Key: "new", Equal: "ok"}})
		data, err := os.ReadFile(dir + "/sub/f")
		assert.NilError(t, err)
		assert.Equal(t, string(data), "from-bind\n", "the write reached the bind's source")
		_, err = os.Stat(dir + "/sub/new")
		assert.Assert(t, os.IsNotExist(err), "the tmpfs content reached the bind's source")
	})

	t.Run("destination-under-symlink", func(t *testing.T) {
		// /srv -> /run: the path is resolved inside the rootfs.
		kv := tfRunScriptIn(t, d, "runc", "tfcopyup", []string{"--read-only", "--tmpfs", "/srv/sub"},
			`awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts; echo "w=$(w /srv/sub/f)"`)
		tfCheck(t, kv, []tfWant{{Key: "mnt_/run/sub", Contains: "tmpfs rw,"}, {Key: "w", Equal: "ok"}})
	})
}
