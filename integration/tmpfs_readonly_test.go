package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestTmpfsReadOnlyDetails checks, on every runtime, the --read-only
// details of the contract: a --tmpfs /dev/shm replaces the default one;
// --tmpfs /etc gets the image's /etc with the network files mounted on top
// (read-only); nested tmpfs mounts are applied parents first with copy-up
// in each; a bind under a tmpfs works; --shm-size sizes /dev/shm; the
// rootfs has no writable layer; exec works and cp into the rootfs is
// refused.
func TestTmpfsReadOnlyDetails(t *testing.T) {
	d := harness.NewWithImage(t)
	hostFile := filepath.Join(t.TempDir(), "test")
	assert.NilError(t, os.WriteFile(hostFile, []byte("from-host\n"), 0o644))
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		kv := tfRunScript(t, d, rt, []string{"--read-only", "--hostname", "tfhost",
			"--tmpfs", "/dev/shm:size=8m", "--tmpfs", "/etc", "--tmpfs", "/run/app", "--tmpfs", "/run", "-v", hostFile + ":/run/test:ro"}, `
echo "shm_count=$(awk '$2 == "/dev/shm"' /proc/mounts | wc -l)"
echo "shm=$(w /dev/shm/f)"
echo "passwd=$(head -n1 /etc/passwd)"
echo "motd=$(cat /etc/motd)"
echo "etc_write=$(w /etc/new)"
echo "st_etc=$(st /etc)"
echo "hosts=$(w /etc/hosts)"
echo "hosts_content=$(grep -c localhost /etc/hosts)"
echo "hostname=$(cat /etc/hostname)"
echo "resolv=$(w /etc/resolv.conf)"
echo "config=$(cat /run/app/config)"
echo "link=$(readlink /run/app/link)"
echo "st_runapp=$(st /run/app)"
echo "run_test=$(cat /run/test)"
echo "run_write=$(w /run/other)"
echo "order=$(awk '$2 == "/run" {print "run"} $2 == "/run/app" {print "app"} $2 == "/run/test" {print "test"} $2 == "/etc" {print "etc"} $2 == "/etc/hosts" {print "hosts"}' /proc/mounts | tr '\n' ' ')"
awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts
`)
		tfCheck(t, kv, []tfWant{
			{Key: "shm_count", Equal: "1"},
			{Key: "mnt_/dev/shm", Contains: "size=8192k"},
			{Key: "shm", Equal: "ok"},
			{Key: "passwd", Equal: "root:x:0:0:root:/root:/bin/sh"},
			{Key: "motd", Equal: "Berth test image"},
			{Key: "etc_write", Equal: "ok"},
			{Key: "st_etc", Equal: "755 0 0"},
			{Key: "hosts", Contains: "Read-only file system"},
			{Key: "hosts_content", Equal: "2"},
			{Key: "hostname", Equal: "tfhost"},
			{Key: "resolv", Contains: "Read-only file system"},
			{Key: "config", Equal: "image-config"},
			{Key: "link", Equal: "config"},
			{Key: "st_runapp", Equal: "750 1000 1000"},
			{Key: "run_test", Equal: "from-host"},
			{Key: "run_write", Equal: "ok"},
			{Key: "mnt_/run/app", Contains: "tmpfs rw,nosuid,nodev,noexec"},
			{Key: "mnt_/etc", Contains: "tmpfs rw,nosuid,nodev,noexec"},
		})
		// Parents first: /etc before /etc/hosts, /run before /run/app and
		// /run/test.
		order := strings.Fields(kv["order"])
		pos := map[string]int{}
		for i, m := range order {
			pos[m] = i
		}
		assert.Equal(t, len(order), 5, kv["order"])
		assert.Assert(t, pos["etc"] < pos["hosts"] && pos["run"] < pos["app"] && pos["run"] < pos["test"], "mount order %q", kv["order"])

		kv = tfRunScript(t, d, rt, []string{"--read-only", "--shm-size", "16m"},
			`awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts; echo "shm=$(w /dev/shm/f)"; echo "mq=$(w /dev/mqueue/q)"`)
		tfCheck(t, kv, []tfWant{{Key: "mnt_/dev/shm", Contains: "size=16384k"}, {Key: "shm", Equal: "ok"}, {Key: "mnt_/dev/mqueue", Contains: "rw,"}})

		// Without --read-only, --tmpfs /etc still gets the network files,
		// writable then.
		kv = tfRunScript(t, d, rt, []string{"--tmpfs", "/etc"}, `echo "hosts=$(w /etc/hosts)"; echo "passwd=$(head -n1 /etc/passwd)"`)
		tfCheck(t, kv, []tfWant{{Key: "hosts", Equal: "ok"}, {Key: "passwd", Equal: "root:x:0:0:root:/root:/bin/sh"}})
	})

	t.Run("no-writable-layer", func(t *testing.T) {
		id := d.OK(t, "run", "-d", "--network", "none", "--read-only", "--tmpfs", "/run", "busybox", "sleep", "1000")
		data := d.OK(t, "inspect", "-f", "{{json .GraphDriver.Data}}", id)
		assert.Assert(t, !strings.Contains(data, "UpperDir"), "a read-only container has an upper dir: %s", data)
		_, err := os.Stat(filepath.Join(d.DataRoot, "containers", id, "rw"))
		assert.Assert(t, os.IsNotExist(err), "a read-only container has a writable layer directory: %v", err)
		kv := tfExecScript(t, d, id, `awk '$2 == "/" {print "root=" $3 " " $4}' /proc/mounts; echo "w=$(w /x)"; echo "run=$(w /run/x)"`)
		assert.Assert(t, strings.HasPrefix(kv["root"], "overlay ro,") && !strings.Contains(kv["root"], "upperdir"), kv["root"])
		assert.Assert(t, strings.Contains(kv["w"], "Read-only file system"), kv["w"])
		assert.Equal(t, kv["run"], "ok")
		src := filepath.Join(t.TempDir(), "f")
		assert.NilError(t, os.WriteFile(src, []byte("x"), 0o644))
		res := d.Berth(t, "cp", src, id+":/etc/f")
		assert.Assert(t, res.ExitCode != 0, "cp into a read-only rootfs succeeded")
		assert.Assert(t, strings.Contains(res.Stderr, "container rootfs is marked read-only"), res.Stderr)
	})
}
