package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

func cpReadFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	assert.NilError(t, err)
	return string(data)
}

// tarNames lists the entry names of a tar stream.
func cpTarNames(t *testing.T, r io.Reader) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		assert.NilError(t, err)
		out[h.Name] = h
	}
}

// TestArchiveRunningContainer copies in and out of a running read-only
// container with berth cp and docker cp: tmpfs content is visible and
// writable (Docker cannot do this), the read-only rootfs and a read-only
// volume refuse writes with Docker's messages, and symlinks never lead out
// of the container.
func TestArchiveRunningContainer(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	ctx := context.Background()
	id := d.OK(t, "run", "-d", "--name", "cpro", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp:size=1m",
		"-v", "rovol:/data:ro", "busybox",
		"sh", "-c", "echo live > /tmp/live.txt; ln -s /etc /tmp/etclink; ln -s ../../../.. /tmp/up; touch /tmp/ready; exec sleep 300")
	out := t.TempDir()
	waitForFile := func() {
		for i := 0; i < 100; i++ {
			if d.Berth(t, "cp", "cpro:/tmp/ready", filepath.Join(out, "ready")).ExitCode == 0 {
				return
			}
		}
		t.Fatal("container never wrote /tmp/ready")
	}
	waitForFile()

	t.Run("read tmpfs content", func(t *testing.T) {
		res := d.Berth(t, "cp", "cpro:/tmp/live.txt", out)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, cpReadFile(t, filepath.Join(out, "live.txt")), "live\n")

		res = d.Docker(t, harness.DockerCLI, "cp", "cpro:/tmp/live.txt", filepath.Join(out, "docker-live.txt"))
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, cpReadFile(t, filepath.Join(out, "docker-live.txt")), "live\n")
	})

	t.Run("directory with image content", func(t *testing.T) {
		res := d.Berth(t, "cp", "cpro:/run/app", out)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		// /run is a tmpfs filled from the image by copy-up (the daemon's
		// default): what is read is the mount, with the image's content.
		assert.Equal(t, cpReadFile(t, filepath.Join(out, "app", "config")), "image-config\n")
		target, err := os.Readlink(filepath.Join(out, "app", "link"))
		assert.NilError(t, err)
		assert.Equal(t, target, "config")
		fi, err := os.Stat(filepath.Join(out, "app"))
		assert.NilError(t, err)
		assert.Equal(t, fi.Mode().Perm(), os.FileMode(0o750))
	})

	t.Run("write into tmpfs of a read-only container", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "in.txt")
		assert.NilError(t, os.WriteFile(src, []byte("from host\n"), 0o644))
		res := d.Berth(t, "cp", src, "cpro:/tmp/")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		res = d.Docker(t, harness.DockerCLI, "cp", src, "cpro:/run/renamed.txt")
		assert.Equal(t, res.ExitCode, 0, res.Combined())

		for _, p := range []string{"/tmp/in.txt", "/run/renamed.txt"} {
			rc, err := d.Client(t).CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: p})
			assert.NilError(t, err, p)
			tr := tar.NewReader(rc.Content)
			h, err := tr.Next()
			assert.NilError(t, err)
			assert.Equal(t, h.Name, filepath.Base(p))
			data, _ := io.ReadAll(tr)
			rc.Content.Close()
			assert.Equal(t, string(data), "from host\n")
		}
	})

	t.Run("read-only rootfs and volume refuse writes", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "in.txt")
		assert.NilError(t, os.WriteFile(src, []byte("x"), 0o644))
		res := d.Berth(t, "cp", src, "cpro:/etc/")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "container rootfs is marked read-only"))
		res = d.Docker(t, harness.DockerCLI, "cp", src, "cpro:/etc/")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "Error response from daemon: container rootfs is marked read-only"))
		res = d.Docker(t, harness.DockerCLI, "cp", src, "cpro:/data/")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "mounted volume is marked read-only"))
	})

	t.Run("stat and missing files", func(t *testing.T) {
		st, err := d.Client(t).ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: "/tmp/live.txt"})
		assert.NilError(t, err)
		assert.Equal(t, st.Stat.Name, "live.txt")
		assert.Equal(t, st.Stat.Size, int64(5))
		assert.Assert(t, st.Stat.Mode.IsRegular())

		st, err = d.Client(t).ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: "/tmp/etclink"})
		assert.NilError(t, err)
		assert.Equal(t, st.Stat.LinkTarget, "/etc")

		_, err = d.Client(t).ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: "/nope"})
		assert.Assert(t, errdefs.IsNotFound(err), "%v", err)

		res := d.Docker(t, harness.DockerCLI, "cp", "cpro:/nope", out)
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "Could not find the file /nope in container cpro"))
	})

	t.Run("symlinks stay inside the container", func(t *testing.T) {
		hostPasswd := cpReadFile(t, "/etc/passwd")
		for _, p := range []string{"/tmp/etclink/passwd", "/tmp/up/etc/passwd", "/../../../../etc/passwd"} {
			res := d.Berth(t, "cp", "cpro:"+p, "-")
			assert.Equal(t, res.ExitCode, 0, "%s: %s", p, res.Combined())
			tr := tar.NewReader(strings.NewReader(res.Stdout))
			_, err := tr.Next()
			assert.NilError(t, err, p)
			data, _ := io.ReadAll(tr)
			assert.Check(t, is.Contains(string(data), "app:x:1000:1000"), p)
			assert.Check(t, string(data) != hostPasswd, p)
		}
		// Extracting through a symlink writes where it leads inside the
		// container: /tmp/up resolves to the container's root.
		src := filepath.Join(t.TempDir(), "f.txt")
		assert.NilError(t, os.WriteFile(src, []byte("x"), 0o644))
		res := d.Berth(t, "cp", src, "cpro:/tmp/up/etc/")
		assert.Check(t, is.Contains(res.Stderr, "container rootfs is marked read-only"))
		_, err := os.Stat("/etc/f.txt")
		assert.Assert(t, os.IsNotExist(err), "wrote on the host")
	})

	t.Run("whole root", func(t *testing.T) {
		// Named like Docker's, without the kernel filesystems' content,
		// with the tmpfs content.
		res := d.Berth(t, "cp", "cpro:/", "-")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		names := cpTarNames(t, strings.NewReader(res.Stdout))
		for _, n := range []string{"/etc/passwd", "/tmp/live.txt", "/run/app/config", "/proc/", "/dev/"} {
			assert.Check(t, names[n] != nil, n)
		}
		for n := range names {
			assert.Check(t, !strings.HasPrefix(n, "/proc/1"), n)
		}
	})

	t.Run("tar stream to stdout and from stdin", func(t *testing.T) {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		assert.NilError(t, tw.WriteHeader(&tar.Header{Name: "piped.txt", Mode: 0o600, Size: 3, Typeflag: tar.TypeReg}))
		_, _ = tw.Write([]byte("abc"))
		assert.NilError(t, tw.Close())
		res := d.BerthIn(t, buf.String(), "cp", "-", "cpro:/tmp")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		res = d.Berth(t, "cp", "cpro:/tmp", "-")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		names := cpTarNames(t, strings.NewReader(res.Stdout))
		assert.Check(t, names["tmp/piped.txt"] != nil, "%v", names)
		assert.Check(t, names["tmp/live.txt"] != nil, "%v", names)
	})
}

// TestArchiveStoppedContainer copies from and into containers that do not
// run: the daemon assembles their filesystem privately for the call.
func TestArchiveStoppedContainer(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	out := t.TempDir()

	res := d.Berth(t, "run", "--name", "rw", "-v", "vol:/data", "busybox", "sh", "-c", "echo written > /written; echo vol > /data/v.txt")
	assert.Equal(t, res.ExitCode, 0, res.Combined())

	// Files of the image, of the container's layer, and of its volume.
	for p, want := range map[string]string{"/run/app/config": "image-config\n", "/written": "written\n", "/data/v.txt": "vol\n"} {
		res := d.Docker(t, harness.DockerCLI, "cp", "rw:"+p, filepath.Join(out, "f"))
		assert.Equal(t, res.ExitCode, 0, "%s: %s", p, res.Combined())
		assert.Equal(t, cpReadFile(t, filepath.Join(out, "f")), want, p)
	}

	// Into the stopped container: the next run sees the file.
	src := filepath.Join(t.TempDir(), "added.txt")
	assert.NilError(t, os.WriteFile(src, []byte("added\n"), 0o644))
	res = d.Berth(t, "cp", src, "rw:/added.txt")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = d.Berth(t, "start", "-a", "rw")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = d.Berth(t, "cp", "rw:/added.txt", filepath.Join(out, "added.txt"))
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, cpReadFile(t, filepath.Join(out, "added.txt")), "added\n")

	// A created, read-only container refuses writes outside its mounts.
	res = d.Berth(t, "create", "--name", "ro", "--read-only", "--tmpfs", "/tmp", "busybox", "true")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = d.Docker(t, harness.DockerCLI, "cp", src, "ro:/tmp/")
	assert.Equal(t, res.ExitCode, 1, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "container rootfs is marked read-only"))
	res = d.Docker(t, harness.DockerCLI, "cp", "ro:/etc/passwd", filepath.Join(out, "passwd"))
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(cpReadFile(t, filepath.Join(out, "passwd")), "app:x:1000"))
	// The whole root of a stopped container, with the docker CLI.
	dst := filepath.Join(t.TempDir(), "rootcopy")
	res = d.Docker(t, harness.DockerCLI, "cp", "rw:/", dst)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, cpReadFile(t, filepath.Join(dst, "written")), "written\n")
	assert.Equal(t, cpReadFile(t, filepath.Join(dst, "run", "app", "config")), "image-config\n")
	assert.Check(t, is.Len(d.Mounts(), 0))
}
