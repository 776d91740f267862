package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// sharedHostDir returns a directory that is a shared mount point of the
// test's (the host's) mount namespace, holding a tmpfs submount "pre"
// made before any container, and unmounts everything below it when the
// test ends.
func sharedHostDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	assert.NilError(t, unix.Mount(dir, dir, "", unix.MS_BIND, ""))
	t.Cleanup(func() { unmountTree(dir) })
	assert.NilError(t, unix.Mount("", dir, "", unix.MS_SHARED, ""))
	pre := filepath.Join(dir, "pre")
	assert.NilError(t, os.Mkdir(pre, 0o755))
	assert.NilError(t, unix.Mount("hostpre", pre, "tmpfs", 0, "size=1m"))
	return dir
}

// unmountTree unmounts every mount at or below dir, deepest first.
func unmountTree(dir string) {
	infos, _ := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	for i := len(infos) - 1; i >= 0; i-- {
		_ = unix.Unmount(infos[i].Mountpoint, unix.MNT_DETACH)
	}
}

// shimMountsOnHost lists the host's mounts under the daemon's roots other
// than the network namespaces the daemon pins there: a shim's rootfs,
// tmpfs or staging of a clone would be one.
func shimMountsOnHost(d *harness.Daemon) []string {
	var out []string
	for _, line := range d.Mounts() {
		if !strings.Contains(line, " - nsfs ") {
			out = append(out, line)
		}
	}
	return out
}

// hostMount returns the host's mount at exactly path, if any.
func hostMount(t *testing.T, path string) (*mountinfo.Info, bool) {
	t.Helper()
	infos, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(path))
	assert.NilError(t, err)
	if len(infos) == 0 {
		return nil, false
	}
	return infos[len(infos)-1], true
}

// TestBindPropagationShared: a bind with rshared propagation of a shared
// host directory works both ways, as in Docker, on runc and crun: a tmpfs
// the container mounts below its destination appears on the host below
// the source (and stays there after the container is gone, as in Docker),
// a mount the host makes below the source appears in the container; the
// shim's own mounts (overlay rootfs, tmpfs staging, the clone's staging)
// never reach the host, and the host's submounts survive the container.
// Shared (non-recursive) works through the docker CLI's --mount.
func TestBindPropagationShared(t *testing.T) {
	d := harness.NewWithImage(t)
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		src := sharedHostDir(t)
		for _, sub := range []string{"ctr", "late", "cli"} {
			assert.NilError(t, os.Mkdir(filepath.Join(src, sub), 0o755))
		}
		// A published port too: the shim gets its socket before the clone.
		id := d.OK(t, "run", "-d", "--runtime", rt, "-p", "127.0.0.1::8080", "--cap-add", "SYS_ADMIN",
			"--tmpfs", "/scratch", "-v", src+":/mnt:rshared", "busybox", "sleep", "300")
		assert.Equal(t, d.Inspect(t, id, "{{(index .Mounts 0).Propagation}}"), "rshared")
		// An rslave bind of the same source receives and never sends.
		slave := d.OK(t, "run", "-d", "--runtime", rt, "--network", "none", "--cap-add", "SYS_ADMIN",
			"-v", src+":/s:rslave", "busybox", "sleep", "300")

		// (a) the container's mount reaches the host's source.
		d.OK(t, "exec", id, "mount", "-t", "tmpfs", "-o", "size=1m", "ctrtmp", "/mnt/ctr")
		d.OK(t, "exec", id, "sh", "-c", "echo from-container > /mnt/ctr/f")
		m, ok := hostMount(t, filepath.Join(src, "ctr"))
		assert.Assert(t, ok, "the container's tmpfs is not on the host below the source")
		assert.Equal(t, m.Source, "ctrtmp")
		data, err := os.ReadFile(filepath.Join(src, "ctr", "f"))
		assert.NilError(t, err)
		assert.Equal(t, string(data), "from-container\n")

		// (b) the host's later mount reaches the container, and the one
		// it had before is there too.
		late := filepath.Join(src, "late")
		assert.NilError(t, unix.Mount("hostlate", late, "tmpfs", 0, "size=1m"))
		assert.NilError(t, os.WriteFile(filepath.Join(late, "marker"), []byte("m"), 0o644))
		assert.Equal(t, d.OK(t, "exec", id, "cat", "/mnt/late/marker"), "m")
		assert.Check(t, is.Contains(d.OK(t, "exec", id, "cat", "/proc/mounts"), "hostpre /mnt/pre tmpfs"))
		assert.Equal(t, d.OK(t, "exec", slave, "cat", "/s/late/marker"), "m")
		assert.Equal(t, d.OK(t, "exec", slave, "cat", "/s/ctr/f"), "from-container")
		d.OK(t, "exec", slave, "mount", "-t", "tmpfs", "-o", "size=1m", "slavetmp", "/s/cli")
		_, ok = hostMount(t, filepath.Join(src, "cli"))
		assert.Check(t, !ok, "a mount in an rslave bind reached the host")
		d.OK(t, "rm", "-f", slave)

		// (c) nothing of the shim's is on the host while it runs, nor
		// after; the host keeps its submounts and what the container
		// mounted below the source (Docker leaves it too).
		assert.DeepEqual(t, d.HostMounts(t), []string{})
		assert.Check(t, is.Len(shimMountsOnHost(d), 0), "mounts under the daemon's root on the host: %v", shimMountsOnHost(d))
		// The clone is attached in the shim's namespace only.
		staged := 0
		for _, pid := range d.Shims() {
			data, err := os.ReadFile("/proc/" + pid + "/mountinfo")
			if err == nil && strings.Contains(string(data), "/shared/0 ") { // a shim that exits has none
				staged++
			}
		}
		assert.Equal(t, staged, 1, "the shim of the rshared container attaches the clone at its staging path")
		d.OK(t, "rm", "-f", id)
		assert.Check(t, is.Len(shimMountsOnHost(d), 0), "mounts under the daemon's root on the host: %v", shimMountsOnHost(d))
		for _, p := range []string{"pre", "late", "ctr"} {
			_, ok := hostMount(t, filepath.Join(src, p))
			assert.Check(t, ok, "the host lost its mount %s when the container went", p)
		}

		// A file on the shared mount binds rshared too.
		assert.NilError(t, os.WriteFile(filepath.Join(src, "file"), []byte("f\n"), 0o644))
		assert.Equal(t, d.OK(t, "run", "--rm", "--runtime", rt, "--network", "none", "-v", filepath.Join(src, "file")+":/f:rshared", "busybox", "cat", "/f"), "f")

		// (e) shared, non-recursive propagation at the top, through the
		// docker CLI's --mount.
		res := d.Docker(t, harness.DockerCLI, "run", "--rm", "--runtime", rt, "--network", "none", "--cap-add", "SYS_ADMIN",
			"--mount", "type=bind,src="+src+",dst=/mnt,bind-propagation=shared", "busybox",
			"mount", "-t", "tmpfs", "-o", "size=1m", "clitmp", "/mnt/cli")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		m, ok = hostMount(t, filepath.Join(src, "cli"))
		assert.Assert(t, ok, "the container's tmpfs (shared, docker CLI) is not on the host")
		assert.Equal(t, m.Source, "clitmp")
		assert.Check(t, is.Len(shimMountsOnHost(d), 0), "mounts under the daemon's root on the host: %v", shimMountsOnHost(d))
	})
}

// sdkPropagationScript runs, through the Python SDK, a container that
// mounts a tmpfs below an rshared bind given as a volume mode and one given
// as a Mount with propagation.
const sdkPropagationScript = `
import sys
import docker

c = docker.DockerClient(base_url=sys.argv[1])
src = sys.argv[2]
c.containers.run("busybox", "mount -t tmpfs -o size=1m pyvol /mnt/py1", network_mode="none", cap_add=["SYS_ADMIN"],
                 volumes={src: {"bind": "/mnt", "mode": "rshared"}}, remove=True)
c.containers.run("busybox", "mount -t tmpfs -o size=1m pymount /mnt/py2", network_mode="none", cap_add=["SYS_ADMIN"],
                 mounts=[docker.types.Mount("/mnt", src, type="bind", propagation="rshared")], remove=True)
print("done")
`

// TestBindPropagationSDK: the Python SDK's two spellings of an rshared
// bind let the container's mounts reach the host.
func TestBindPropagationSDK(t *testing.T) {
	harness.RequireTool(t, sdkPython)
	d := harness.NewWithImage(t)
	src := sharedHostDir(t)
	for _, sub := range []string{"py1", "py2"} {
		assert.NilError(t, os.Mkdir(filepath.Join(src, sub), 0o755))
	}
	out, err := exec.Command(sdkPython, "-c", sdkPropagationScript, d.Host(), src).CombinedOutput()
	assert.NilError(t, err, string(out))
	assertPropagatedToHost(t, d, src, map[string]string{"py1": "pyvol", "py2": "pymount"})
}

// TestBindPropagationCompose: docker-compose's short (SRC:DST:rshared)
// and long (bind.propagation) syntaxes of an rshared bind.
func TestBindPropagationCompose(t *testing.T) {
	d := harness.NewWithImage(t)
	src := sharedHostDir(t)
	for _, sub := range []string{"long", "short"} {
		assert.NilError(t, os.Mkdir(filepath.Join(src, sub), 0o755))
	}
	dir := t.TempDir()
	file := `version: "2.4"
services:
  m:
    image: busybox:latest
    network_mode: none
    cap_add: [SYS_ADMIN]
    volumes:
      - type: bind
        source: ` + src + `
        target: /mnt
        bind:
          propagation: rshared
      - ` + src + `:/short:rshared
    command: sh -c 'mount -t tmpfs -o size=1m composelong /mnt/long && mount -t tmpfs -o size=1m composeshort /short/short'
`
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(file), 0o644))
	res := compose(t, d, dir, "up", "--exit-code-from", "m")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = compose(t, d, dir, "down")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assertPropagatedToHost(t, d, src, map[string]string{"long": "composelong", "short": "composeshort"})
}

// assertPropagatedToHost checks that each tmpfs a container mounted below
// its rshared bind (sub-directory of src → the tmpfs's source name) is on
// the host, and that none of the shim's own mounts is.
func assertPropagatedToHost(t *testing.T, d *harness.Daemon, src string, mounts map[string]string) {
	t.Helper()
	for sub, name := range mounts {
		m, ok := hostMount(t, filepath.Join(src, sub))
		if assert.Check(t, ok, "the container's tmpfs %s is not on the host", sub) {
			assert.Check(t, is.Equal(m.Source, name))
		}
	}
	assert.Check(t, is.Len(shimMountsOnHost(d), 0), "mounts under the daemon's root on the host: %v", shimMountsOnHost(d))
}

// TestBindPropagationRefused: a shared bind of a source whose host mount
// is not shared, or a slave bind of one that is neither shared nor a
// slave, is a 400 at create with Docker's message, leaving nothing; a
// source whose mount stops being shared after the create fails the start
// with the same message and leaves no mount.
func TestBindPropagationRefused(t *testing.T) {
	d := harness.NewWithImage(t)
	private := t.TempDir()
	assert.NilError(t, unix.Mount(private, private, "", unix.MS_BIND, ""))
	t.Cleanup(func() { unmountTree(private) })
	assert.NilError(t, unix.Mount("", private, "", unix.MS_PRIVATE, ""))
	before := d.Snapshot(t)
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"Image": "busybox", "HostConfig": map[string]any{"Binds": []string{private + ":/mnt:rshared"}}},
			"is mounted on " + private + " but it is not a shared mount"},
		{map[string]any{"Image": "busybox", "HostConfig": map[string]any{"Mounts": []map[string]any{{"Type": "bind", "Source": private, "Target": "/mnt",
			"BindOptions": map[string]any{"Propagation": "shared"}}}}},
			"is mounted on " + private + " but it is not a shared mount"},
		{map[string]any{"Image": "busybox", "HostConfig": map[string]any{"Binds": []string{private + ":/mnt:rslave"}}},
			"is mounted on " + private + " but it is not a shared or slave mount"},
	} {
		r := d.API(t, "POST", "/containers/create", tc.body)
		assert.Equal(t, r.Status, 400, "%s", r.Body)
		assert.Check(t, is.Equal(r.Message(), "path "+private+" "+tc.want), "Docker's message, exactly")
	}
	d.AssertUnchanged(t, before, "refused propagation")
	res := d.Docker(t, harness.DockerCLI, "run", "--rm", "-v", private+":/mnt:rshared", "busybox", "true")
	assert.Check(t, res.ExitCode != 0)
	assert.Check(t, is.Contains(res.Stderr, "path "+private+" is mounted on "+private+" but it is not a shared mount"))

	// The host's mounts may change between create and start: the start
	// checks again, as Docker does there.
	src := sharedHostDir(t)
	id := d.OK(t, "create", "-v", src+":/mnt:rshared", "busybox", "true")
	assert.NilError(t, unix.Mount("", src, "", unix.MS_PRIVATE, ""))
	res = d.Berth(t, "start", id)
	assert.Check(t, res.ExitCode != 0)
	assert.Check(t, is.Contains(res.Stderr, "path "+src+" is mounted on "+src+" but it is not a shared mount"))
	assert.Check(t, is.Len(shimMountsOnHost(d), 0), "mounts under the daemon's root on the host: %v", shimMountsOnHost(d))
	assert.Equal(t, d.Inspect(t, id, "{{.State.Status}}"), "created")
	d.OK(t, "rm", id)

	// A start that fails after the clone (the runtime cannot bind a
	// directory on a file) closes the daemon's handles and leaves no mount.
	assert.NilError(t, unix.Mount("", src, "", unix.MS_SHARED, ""))
	fds := func() []string {
		dir := fmt.Sprintf("/proc/%d/fd", d.Pid())
		entries, err := os.ReadDir(dir)
		assert.NilError(t, err)
		var out []string
		for _, e := range entries {
			// Connections come and go with the API's clients.
			if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && !strings.HasPrefix(l, "socket:") {
				out = append(out, l)
			}
		}
		return out
	}
	id = d.OK(t, "create", "--network", "none", "-v", src+":/bin/sh:rshared", "busybox", "true")
	open := fds()
	res = d.Berth(t, "start", id)
	assert.Check(t, res.ExitCode != 0, res.Combined())
	// runc says "not a directory", crun "Not a directory".
	assert.Check(t, is.Contains(strings.ToLower(res.Stderr), "not a directory"), res.Stderr)
	// The shim's process handle goes when it is reaped: wait for it.
	harness.Poll(t, func() (bool, string) {
		now := fds()
		return slices.Equal(now, open), fmt.Sprintf("the daemon's handles after a failed start: %q, before: %q", now, open)
	})
	assert.Check(t, is.Len(shimMountsOnHost(d), 0), "mounts under the daemon's root on the host: %v", shimMountsOnHost(d))
	assert.Check(t, is.Len(d.Shims(), 0))
	d.OK(t, "rm", id)
}
