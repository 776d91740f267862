package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// hostMounted reports whether dir is a mount point in the host's (the
// test's and the daemon's) mount namespace.
func hostMounted(t testing.TB, dir string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	assert.NilError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// TestVolumeTmpfsOptions creates a tmpfs volume with the docker CLI as
// Docker's local driver takes it: two containers share it and see each
// other's writes, it is a real tmpfs with its size enforced, it stays
// mounted and in use across a daemon restart, is unmounted (its content
// gone) when the last user stops, and is unmounted at restore when its
// user ended while no daemon ran.
func TestVolumeTmpfsOptions(t *testing.T) {
	d := harness.NewWithImage(t)
	docker := func(args ...string) string { t.Helper(); return d.DockerOK(t, args...) }
	docker("volume", "create", "--driver", "local", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=1m,uid=1000,mode=1777", "tv")
	assert.Equal(t, docker("volume", "inspect", "-f", "{{json .Options}}", "tv"), `{"device":"tmpfs","o":"size=1m,uid=1000,mode=1777","type":"tmpfs"}`)
	dir := docker("volume", "inspect", "-f", "{{.Mountpoint}}", "tv")
	assert.Assert(t, !hostMounted(t, dir), "mounted before any container uses it")

	docker("run", "-d", "--name", "c1", "--network", "none", "-v", "tv:/shared", "busybox", "sh", "-c", "echo one > /shared/a; exec sleep 100000")
	docker("run", "-d", "--name", "c2", "--network", "none", "--mount", "type=volume,src=tv,dst=/shared", "busybox", "sleep", "100000")
	assert.Assert(t, hostMounted(t, dir))
	harness.Poll(t, func() (bool, string) {
		out := d.Docker(t, harness.DockerCLI, "exec", "c2", "cat", "/shared/a")
		return out.Stdout == "one\n", out.Combined()
	})
	docker("exec", "c2", "sh", "-c", "echo two > /shared/b")
	assert.Equal(t, docker("exec", "c1", "cat", "/shared/b"), "two")
	// A real tmpfs with the volume's options, and its size enforced.
	assert.Equal(t, docker("exec", "c1", "stat", "-f", "-c", "%T", "/shared"), "tmpfs")
	assert.Equal(t, docker("exec", "c1", "stat", "-c", "%a %u", "/shared"), "1777 1000")
	mounts := docker("exec", "c1", "cat", "/proc/mounts")
	assert.Assert(t, is.Regexp(`(?m)^tmpfs /shared tmpfs rw,.*size=1024k`, mounts))
	res := d.Docker(t, harness.DockerCLI, "exec", "c1", "dd", "if=/dev/zero", "of=/shared/big", "bs=1k", "count=2048")
	assert.Assert(t, res.ExitCode != 0, res.Combined())
	assert.Assert(t, is.Contains(res.Stderr, "No space left on device"))
	docker("exec", "c1", "rm", "/shared/big")

	res = d.Docker(t, harness.DockerCLI, "volume", "rm", "tv")
	assert.Assert(t, res.ExitCode != 0)
	assert.Assert(t, is.Contains(res.Stderr, "volume is in use"))
	assert.Equal(t, d.API(t, "DELETE", "/volumes/tv", nil).Status, 409)

	// A restart keeps the volume mounted for its running users; a new
	// container shares it.
	d.Restart(t)
	assert.Assert(t, hostMounted(t, dir))
	assert.Equal(t, docker("exec", "c2", "cat", "/shared/a"), "one")
	assert.Equal(t, docker("run", "--rm", "--network", "none", "-v", "tv:/shared", "busybox", "cat", "/shared/b"), "two")
	assert.Assert(t, hostMounted(t, dir), "unmounted while c1 and c2 use it")

	// The last user stopping unmounts it: the content is gone.
	docker("stop", "-t", "0", "c1")
	assert.Assert(t, hostMounted(t, dir), "unmounted while c2 uses it")
	docker("stop", "-t", "0", "c2")
	assert.Assert(t, !hostMounted(t, dir), "still mounted after its last user stopped")
	assert.Equal(t, docker("run", "--rm", "--network", "none", "-v", "tv:/shared", "busybox", "ls", "-A", "/shared"), "")
	assert.Assert(t, !hostMounted(t, dir))

	// cp into a stopped user mounts the volume for the copy only, in a
	// private namespace, as Docker does: nothing reaches the host's disk.
	f := filepath.Join(t.TempDir(), "f")
	assert.NilError(t, os.WriteFile(f, []byte("copied\n"), 0o644))
	docker("cp", f, "c1:/shared/f")
	assert.Assert(t, !hostMounted(t, dir))
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 0, "cp wrote into the volume's directory on disk")

	// Its user ends while the daemon is down: restore unmounts it.
	docker("start", "c1")
	assert.Assert(t, hostMounted(t, dir))
	pid, err := strconv.Atoi(docker("inspect", "-f", "{{.State.Pid}}", "c1"))
	assert.NilError(t, err)
	d.Kill(t)
	assert.NilError(t, exec.Command("kill", "-9", strconv.Itoa(pid)).Run())
	d.Start(t)
	d.WaitState(t, "c1", "exited")
	assert.Assert(t, !hostMounted(t, dir), "restore left a volume mounted that no container uses")

	// A start that fails unmounts what it mounted.
	res = d.Docker(t, harness.DockerCLI, "run", "--name", "bad", "--network", "none", "-v", "tv:/shared", "busybox", "/no/such/program")
	assert.Assert(t, res.ExitCode != 0)
	assert.Assert(t, !hostMounted(t, dir), "a failed start left the volume mounted")

	docker("rm", "-f", "c1", "c2", "bad")
	docker("volume", "rm", "tv")
	_, err = os.Stat(filepath.Dir(dir))
	assert.Assert(t, os.IsNotExist(err), "the volume's directory is left")
}

// TestVolumeBindOption: a type=none, o=bind volume binds its host
// directory into containers; removing the volume leaves that directory's
// content alone; a missing directory is refused at create.
func TestVolumeBindOption(t *testing.T) {
	d := harness.NewWithImage(t)
	host := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(host, "in"), []byte("from-host\n"), 0o644))
	d.OK(t, "volume", "create", "-d", "local", "-o", "type=none", "-o", "o=bind", "-o", "device="+host, "bv")
	dir := d.OK(t, "volume", "inspect", "-f", "{{.Mountpoint}}", "bv")
	out := d.OK(t, "run", "--rm", "--network", "none", "-v", "bv:/mnt", "busybox", "sh", "-c", "cat /mnt/in; echo from-ctr > /mnt/out")
	assert.Equal(t, out, "from-host")
	data, err := os.ReadFile(filepath.Join(host, "out"))
	assert.NilError(t, err)
	assert.Equal(t, string(data), "from-ctr\n")
	assert.Assert(t, !hostMounted(t, dir))

	// Read-only through o=bind,ro.
	d.OK(t, "volume", "create", "-o", "type=none", "-o", "o=bind,ro", "-o", "device="+host, "bro")
	res := d.Berth(t, "run", "--rm", "--network", "none", "-v", "bro:/mnt", "busybox", "touch", "/mnt/x")
	assert.Assert(t, is.Contains(res.Stderr, "Read-only file system"), res.Combined())

	// system df walks it; prune removes both without touching the host
	// directory.
	assert.Assert(t, is.Contains(d.OK(t, "system", "df", "-v"), "bv"))
	d.OK(t, "volume", "prune", "-a", "-f")
	assert.Equal(t, d.OK(t, "volume", "ls", "-q"), "")
	data, err = os.ReadFile(filepath.Join(host, "in"))
	assert.NilError(t, err, "removing the volume deleted its device's content")
	assert.Equal(t, string(data), "from-host\n")

	before := d.Snapshot(t)
	d.Fails(t, 1, []string{"device=" + filepath.Join(host, "missing"), "no such file or directory"},
		"volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device="+filepath.Join(host, "missing"), "bm")
	d.AssertUnchanged(t, before, "a refused bind volume")
}

// TestVolumeOptionsRefused: options Berth does not implement, bad tmpfs
// options and sizes beyond the daemon's --max-tmpfs-size are 400s at
// create that name them, through the docker CLI and the API, and leave no
// volume behind.
func TestVolumeOptionsRefused(t *testing.T) {
	d := harness.NewWithImage(t, harness.WithArgs("--max-tmpfs-size", "16m"))
	before := d.Snapshot(t)
	for _, tc := range []struct {
		opts []string
		want string
	}{
		{[]string{"type=nfs", "device=:/export", "o=addr=10.0.0.1"}, `volume type "nfs" (type=nfs) is not supported by berth's local driver`},
		{[]string{"type=ext4", "device=/dev/sda1"}, `volume type "ext4" (type=ext4) is not supported by berth`},
		{[]string{"type=cifs", "device=//srv/share"}, `volume type "cifs" (type=cifs) is not supported by berth`},
		{[]string{"type=tmpfs", "foo=bar"}, `volume option "foo" is not supported by berth's local driver`},
		{[]string{"size=10g"}, `volume option "size" (a disk quota) is not supported by berth's local driver`},
		{[]string{"type=tmpfs", "o=size=12q"}, `invalid tmpfs option "size=12q"`},
		{[]string{"type=tmpfs", "o=size=1m,bogus"}, `invalid tmpfs option "bogus"`},
		{[]string{"type=tmpfs", "o=uid=postgres"}, "uid=postgres: a volume has no image to look names up in"},
		{[]string{"device=/x"}, `missing required option: "type"`},
		{[]string{"type=tmpfs", "o=size=1g"}, "tmpfs volume refused: size=1g is larger than this daemon's limit of 16m (--max-tmpfs-size)"},
		{[]string{"type=tmpfs"}, "tmpfs volume refused has no size limit, but this daemon allows at most 16m (--max-tmpfs-size)"},
	} {
		args := []string{"volume", "create"}
		body := map[string]any{"Name": "refused", "DriverOpts": map[string]string{}}
		for _, o := range tc.opts {
			args = append(args, "--opt", o)
			k, v, _ := strings.Cut(o, "=")
			body["DriverOpts"].(map[string]string)[k] = v
		}
		res := d.Docker(t, harness.DockerCLI, append(args, "refused")...)
		assert.Check(t, res.ExitCode != 0, "%v: %s", tc.opts, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, tc.want))
		r := d.API(t, "POST", "/volumes/create", body)
		assert.Check(t, is.Equal(r.Status, 400), "%v: %s", tc.opts, r.Body)
		assert.Check(t, is.Contains(r.Message(), tc.want))
	}
	// --mount's volume options create the volume the same way.
	res := d.Berth(t, "create", "--mount", "type=volume,src=refused,dst=/v,volume-opt=type=nfs", "busybox")
	assert.Check(t, res.ExitCode != 0)
	assert.Check(t, is.Contains(res.Stderr, `volume type "nfs" (type=nfs) is not supported`))
	assert.Equal(t, d.OK(t, "volume", "ls", "-q"), "")
	d.AssertUnchanged(t, before, "refused volume options")

	// Good --mount volume options make a tmpfs volume.
	out := d.OK(t, "run", "--rm", "--network", "none", "--mount", "type=volume,src=mv,dst=/v,volume-opt=type=tmpfs,volume-opt=o=size=2m", "busybox", "stat", "-f", "-c", "%T", "/v")
	assert.Equal(t, out, "tmpfs")
	assert.Equal(t, d.OK(t, "volume", "inspect", "-f", "{{json .Options}}", "mv"), `{"o":"size=2m","type":"tmpfs"}`)
	d.OK(t, "volume", "rm", "mv")
}

// TestVolumeTmpfsSharedDataRoot: where the data root is a shared mount (as
// / is under systemd), a tmpfs volume mounted while another container runs
// reaches that container's shim namespace too; the unmount after its last
// user must reach it as well, or the tmpfs would stay alive there.
func TestVolumeTmpfsSharedDataRoot(t *testing.T) {
	d := harness.NewWithImage(t)
	d.Stop(t)
	assert.NilError(t, exec.Command("mount", "--bind", d.DataRoot, d.DataRoot).Run())
	t.Cleanup(func() { _ = exec.Command("umount", "-l", d.DataRoot).Run() })
	assert.NilError(t, exec.Command("mount", "--make-shared", d.DataRoot).Run())
	d.Start(t)

	d.OK(t, "run", "-d", "--name", "other", "--network", "none", "busybox", "sleep", "100000")
	shims := d.Shims()
	assert.Equal(t, len(shims), 1, "%v", shims)
	d.OK(t, "volume", "create", "-o", "type=tmpfs", "-o", "o=size=1m", "sv")
	dir := d.OK(t, "volume", "inspect", "-f", "{{.Mountpoint}}", "sv")
	inOther := func() bool {
		out, err := exec.Command("nsenter", "-t", shims[0], "-m", "cat", "/proc/self/mountinfo").Output()
		assert.NilError(t, err)
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
				return true
			}
		}
		return false
	}
	d.OK(t, "run", "-d", "--name", "user", "--network", "none", "-v", "sv:/v", "busybox", "sleep", "100000")
	assert.Assert(t, hostMounted(t, dir))
	assert.Assert(t, inOther(), "the data root's propagation did not apply: the test proves nothing")
	d.OK(t, "rm", "-f", "user")
	assert.Assert(t, !hostMounted(t, dir))
	assert.Assert(t, !inOther(), "the tmpfs volume stays mounted in another container's shim namespace")

	d.OK(t, "rm", "-f", "other")
	d.OK(t, "volume", "rm", "sv")
	d.Stop(t)
	assert.NilError(t, exec.Command("umount", d.DataRoot).Run())
}

// TestVolumeTmpfsCrashInStart: the daemon dies inside a start, after it
// mounted the container's tmpfs volume (test hook BERTH_TEST_CRASH_POINT).
// Restarted, it ends a run never started and unmounts the volume, or adopts
// a started one and keeps the volume mounted until that container stops.
func TestVolumeTmpfsCrashInStart(t *testing.T) {
	for _, tc := range []struct {
		point   string
		running bool
	}{{"after-spawn", false}, {"after-start", true}} {
		t.Run(tc.point, func(t *testing.T) {
			t.Setenv("BERTH_TEST_CRASH_POINT", "")
			d := harness.NewWithImage(t)
			d.OK(t, "volume", "create", "-o", "type=tmpfs", "-o", "o=size=1m", "cv")
			dir := d.OK(t, "volume", "inspect", "-f", "{{.Mountpoint}}", "cv")
			d.OK(t, "create", "--name", "victim", "--network", "none", "-v", "cv:/v", "busybox", "sh", "-c", "echo x > /v/x; exec sleep 100000")
			d.Stop(t)
			t.Setenv("BERTH_TEST_CRASH_POINT", tc.point)
			d.Start(t)
			res := d.Berth(t, "start", "victim")
			assert.Assert(t, res.ExitCode != 0, "the daemon did not crash at %s: %s", tc.point, res.Combined())
			d.Kill(t)
			assert.Assert(t, hostMounted(t, dir), "the crash came before the volume was mounted: the window was not hit")
			t.Setenv("BERTH_TEST_CRASH_POINT", "")
			_ = os.Remove(d.Sock)
			d.Start(t)
			if !tc.running {
				assert.Equal(t, d.Inspect(t, "victim", "{{.State.Status}}"), "created")
				assert.Assert(t, !hostMounted(t, dir), "restore left the volume of a start that never happened mounted")
				return
			}
			assert.Equal(t, d.Inspect(t, "victim", "{{.State.Status}}"), "running")
			assert.Assert(t, hostMounted(t, dir))
			harness.Poll(t, func() (bool, string) {
				res := d.Berth(t, "run", "--rm", "--network", "none", "-v", "cv:/v", "busybox", "cat", "/v/x")
				return strings.TrimSpace(res.Stdout) == "x", res.Combined()
			})
			d.OK(t, "stop", "-t", "0", "victim")
			assert.Assert(t, !hostMounted(t, dir), "the adopted container's volume stays mounted after it stopped")
		})
	}
}
