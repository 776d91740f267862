package integration

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/berth-project/berth/integration/internal/harness"
)

// tfRunDetachedScript starts script in a detached container and waits for
// its report in the logs: the script's last line must be "end=1"; the
// container then sleeps so that the test can look at the host meanwhile.
func tfRunDetachedScript(t *testing.T, d *harness.Daemon, rt string, flags []string, script string) (string, map[string]string) {
	t.Helper()
	args := append([]string{"run", "-d", "--network", "none", "--runtime", rt}, flags...)
	args = append(args, "busybox", "sh", "-c", tfScript+script+"\necho end=1\nexec sleep 1000")
	id := d.OK(t, args...)
	var logs string
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		res := d.Berth(t, "logs", id)
		logs = res.Stdout
		if strings.Contains(logs, "end=1") {
			return poll.Success()
		}
		if st := d.OK(t, "inspect", "-f", "{{.State.Status}}", id); st == "exited" {
			return poll.Error(fmt.Errorf("container exited before its report: %s", res.Combined()))
		}
		return poll.Continue("waiting for the report")
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(50*time.Millisecond))
	return id, tfParse(logs)
}

// TestTmpfsProductionMode checks, on every runtime, the lines of the
// contract about `--read-only --tmpfs ...` as the process inside sees them:
// a read-only root, fresh writable tmpfs mounts with the image's content,
// their root modes and owners, Docker's default flags, size and exec
// options, the auxiliary mounts that stay writable, and no mount on the
// host.
func TestTmpfsProductionMode(t *testing.T) {
	d := harness.NewWithImage(t)
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		before := d.HostMounts(t)
		flags := []string{"--read-only",
			"--tmpfs", "/run", // image dir 0755 root, holds app/ (0750 1000:1000)
			"--tmpfs", "/tmp:size=1m", // image dir 1777 root, holds seed.txt
			"--tmpfs", "/new", // absent from the image: 1777 root
			"--tmpfs", "/o1:mode=700,uid=1000,gid=1000",
			"--tmpfs", "/o2:uid=app,gid=app",
			"--tmpfs", "/var/tmp:mode=750", // runc 1.1.5 would ignore mode= on an existing dir
			"--tmpfs", "/x:exec",
			"--tmpfs", "/merge:rw,size=8192k,exec,size=4096k,noexec",
		}
		script := `
echo "rootfs=$(w /newfile)"
echo "rootfs_motd=$(w /etc/motd)"
echo "run_write=$(w /run/written)"
echo "config=$(cat /run/app/config)"
echo "link=$(readlink /run/app/link)"
echo "link_cat=$(cat /run/app/link)"
echo "seed=$(cat /tmp/seed.txt)"
echo "st_run=$(st /run)"
echo "st_runapp=$(st /run/app)"
echo "st_config=$(stat -c '%a %u %g %Y' /run/app/config)"
echo "st_tmp=$(st /tmp)"
echo "st_new=$(st /new)"
echo "st_o1=$(st /o1)"
echo "st_o2=$(st /o2)"
echo "st_vartmp=$(st /var/tmp)"
echo "enospc=$(dd if=/dev/zero of=/tmp/big bs=1k count=2048 2>&1 | tr '\n' ' ')"
cp /bin/busybox /run/echo && cp /bin/busybox /x/echo
echo "noexec=$( (/run/echo yes; echo rc=$?) 2>&1 | tr '\n' ' ')"
echo "exec=$(/x/echo yes 2>&1)"
echo "dev=$(w /dev/berth-test)"
echo "shm=$(w /dev/shm/berth-test)"
echo "hosts=$(w /etc/hosts)"
echo "hostname=$(w /etc/hostname)"
echo "resolv=$(w /etc/resolv.conf)"
awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts
`
		id, kv := tfRunDetachedScript(t, d, rt, flags, script)
		const erofs = "Read-only file system"
		tfCheck(t, kv, []tfWant{
			{Key: "rootfs", Contains: erofs},
			{Key: "rootfs_motd", Contains: erofs},
			{Key: "run_write", Equal: "ok"},
			{Key: "config", Equal: "image-config"},
			{Key: "link", Equal: "config"},
			{Key: "link_cat", Equal: "image-config"},
			{Key: "seed", Equal: "image-tmp"},
			{Key: "st_run", Equal: "755 0 0"},
			{Key: "st_runapp", Equal: "750 1000 1000"},
			{Key: "st_config", Equal: "644 1000 1000 1704067200"},
			{Key: "st_tmp", Equal: "1777 0 0"},
			{Key: "st_new", Equal: "1777 0 0"},
			{Key: "st_o1", Equal: "700 1000 1000"},
			{Key: "st_o2", Equal: "1777 1000 1000"},
			{Key: "st_vartmp", Equal: "750 0 0"},
			{Key: "enospc", Contains: "No space left on device"},
			{Key: "noexec", Contains: "Permission denied"},
			{Key: "noexec", Contains: "rc=126"},
			{Key: "exec", Equal: "yes"},
			{Key: "dev", Equal: "ok"},
			{Key: "shm", Equal: "ok"},
			{Key: "hosts", Contains: erofs},
			{Key: "hostname", Contains: erofs},
			{Key: "resolv", Contains: erofs},
			{Key: "mnt_/", Contains: "overlay ro,"},
			{Key: "mnt_/run", Contains: "tmpfs rw,nosuid,nodev,noexec,"},
			{Key: "mnt_/tmp", Contains: "tmpfs rw,nosuid,nodev,noexec,"},
			{Key: "mnt_/tmp", Contains: "size=1024k"},
			{Key: "mnt_/x", Contains: "tmpfs rw,nosuid,nodev,relatime"},
			{Key: "mnt_/merge", Contains: "tmpfs rw,nosuid,nodev,noexec,"},
			{Key: "mnt_/merge", Contains: "size=4096k"},
			{Key: "mnt_/dev", Contains: "tmpfs rw,"},
			{Key: "mnt_/dev/shm", Contains: "size=65536k"},
			{Key: "mnt_/dev/shm", Contains: "tmpfs rw,"},
			{Key: "mnt_/dev/pts", Contains: "devpts rw,"},
			{Key: "mnt_/dev/mqueue", Contains: "mqueue rw,"},
			{Key: "mnt_/proc", Contains: "proc rw,"},
			{Key: "mnt_/proc/sys", Contains: "proc ro,"},
			{Key: "mnt_/sys", Contains: "sysfs ro,"},
			{Key: "mnt_/proc/acpi", Contains: "tmpfs ro,"},    // masked
			{Key: "mnt_/sys/firmware", Contains: "tmpfs ro,"}, // masked
			{Key: "mnt_/etc/hosts", Contains: " ro,"},
		})
		// The mounts live in the shim's namespace: the host sees none of
		// them while the container runs.
		assert.DeepEqual(t, d.HostMounts(t), before)
		d.OK(t, "rm", "-f", id)
		assert.DeepEqual(t, d.HostMounts(t), before)
	})
}

// TestTmpfsLifecycle checks that tmpfs content is per run: gone after
// stop/start, restart and a restart after the daemon restarted or crashed,
// with the image's content and the root's mode copied afresh each time;
// kept across pause; never on the host's disk; and that no mount is left on
// the host after stop, kill or rm -f.
func TestTmpfsLifecycle(t *testing.T) {
	d := harness.NewWithImage(t)
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		before := d.HostMounts(t)
		id := d.OK(t, "run", "-d", "--network", "none", "--runtime", rt, "--read-only",
			"--tmpfs", "/run", "--tmpfs", "/tmp", "--tmpfs", "/new", "busybox", "sleep", "1000")
		const secret = "berth-tmpfs-secret-e0d1"
		scribble := `echo changed > /run/app/config && echo x > /tmp/` + secret + ` && chmod 700 /new /run/app && echo end=1`
		fresh := func(t *testing.T, what string) {
			t.Helper()
			kv := tfExecScript(t, d, id, `echo "config=$(cat /run/app/config)"
echo "secret=$(ls /tmp/`+secret+` 2>&1)"
echo "seed=$(cat /tmp/seed.txt)"
echo "st_new=$(st /new)"
echo "st_runapp=$(st /run/app)"
echo "st_run=$(st /run)"
echo "link=$(readlink /run/app/link)"`)
			t.Logf("after %s: %v", what, kv)
			tfCheck(t, kv, []tfWant{
				{Key: "config", Equal: "image-config"},
				{Key: "secret", Contains: "No such file or directory"},
				{Key: "seed", Equal: "image-tmp"},
				{Key: "st_new", Equal: "1777 0 0"},
				{Key: "st_runapp", Equal: "750 1000 1000"},
				{Key: "st_run", Equal: "755 0 0"},
				{Key: "link", Equal: "config"},
			})
		}
		kept := func(t *testing.T, what string) {
			t.Helper()
			kv := tfExecScript(t, d, id, `echo "config=$(cat /run/app/config)"; echo "secret=$(cat /tmp/`+secret+`)"; echo "st_new=$(st /new)"`)
			tfCheck(t, kv, []tfWant{{Key: "config", Equal: "changed"}, {Key: "secret", Equal: "x"}, {Key: "st_new", Equal: "700 0 0"}})
		}
		fresh(t, "first start")
		tfExecScript(t, d, id, scribble)
		assert.DeepEqual(t, d.HostMounts(t), before)
		tfAssertNotOnDisk(t, d, secret)

		d.OK(t, "pause", id)
		assert.Equal(t, d.OK(t, "inspect", "-f", "{{.State.Status}}", id), "paused")
		d.OK(t, "unpause", id)
		kept(t, "pause")

		d.OK(t, "stop", "-t", "0", id)
		assert.DeepEqual(t, d.HostMounts(t), before)
		d.OK(t, "start", id)
		fresh(t, "stop/start")

		tfExecScript(t, d, id, scribble)
		d.OK(t, "restart", "-t", "0", id)
		fresh(t, "restart")

		// A daemon restart leaves the container running under its shim
		// (its tmpfs with it); the next restart starts afresh.
		tfExecScript(t, d, id, scribble)
		d.Restart(t)
		d.WaitState(t, id, "running")
		kept(t, "daemon restart")
		// The restarted daemon finds the shim's tmpfs mounts again.
		assert.Assert(t, strings.Contains(d.OK(t, "tmpfs", id), "/tmp "), "berth tmpfs after a daemon restart")
		d.OK(t, "restart", "-t", "0", id)
		fresh(t, "restart after a daemon restart")

		// The same after a daemon crash.
		tfExecScript(t, d, id, scribble)
		d.Kill(t)
		d.Start(t)
		d.WaitState(t, id, "running")
		kept(t, "daemon crash")
		d.OK(t, "stop", "-t", "0", id)
		assert.DeepEqual(t, d.HostMounts(t), before)
		d.OK(t, "start", id)
		fresh(t, "start after a daemon crash")

		d.OK(t, "kill", id)
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if st := d.OK(t, "inspect", "-f", "{{.State.Status}}", id); st != "exited" {
				return poll.Continue("state %s", st)
			}
			return poll.Success()
		}, poll.WithTimeout(10*time.Second), poll.WithDelay(20*time.Millisecond))
		assert.DeepEqual(t, d.HostMounts(t), before)
		tfAssertNotOnDisk(t, d, secret)

		d.OK(t, "start", id)
		d.OK(t, "rm", "-f", id)
		assert.DeepEqual(t, d.HostMounts(t), before)
		assert.Assert(t, len(d.Mounts()) == 0, "mounts under the daemon's roots: %v", d.Mounts())
	})
}

// tfAssertNotOnDisk fails if a file named name exists anywhere under the
// daemon's roots on the host (tmpfs content must stay in memory).
func tfAssertNotOnDisk(t *testing.T, d *harness.Daemon, name string) {
	t.Helper()
	_ = filepath.WalkDir(d.Root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Name() == name {
			t.Errorf("tmpfs content reached the host's disk: %s", p)
		}
		return nil
	})
}
