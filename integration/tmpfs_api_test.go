package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/container"
	"github.com/berth-project/berth/integration/internal/harness"
)

// TestTmpfsInspect checks what inspect returns for tmpfs mounts:
// HostConfig.Tmpfs verbatim, HostConfig.Mounts echoed, .Mounts listing
// --mount tmpfs entries exactly as Docker does and no --tmpfs entry; and
// Berth's own "Berth" object with each tmpfs mount's size and usage for a
// running container, also printed by `berth tmpfs`.
func TestTmpfsInspect(t *testing.T) {
	d := harness.NewWithImage(t)
	id := d.OK(t, "run", "-d", "--network", "none", "--read-only",
		"--tmpfs", "/run", "--tmpfs", "/tmp:size=64m", "--tmpfs", "/spaced/:rw,exec", "--tmpfs", "/e:",
		"--mount", "type=tmpfs,dst=/app", "--mount", "type=tmpfs,destination=/ro,readonly,tmpfs-mode=1770",
		"busybox", "sleep", "1000")

	r := d.API(t, "GET", "/containers/"+id+"/json", nil)
	assert.Equal(t, r.Status, 200, string(r.Body))
	var raw struct {
		HostConfig struct {
			Tmpfs          map[string]string
			Mounts         json.RawMessage
			ReadonlyRootfs bool
		}
		Mounts json.RawMessage
		Berth  *struct {
			Tmpfs []struct {
				Destination          string
				SizeBytes, UsedBytes int64
				Mode                 string
				UID, GID             int
				CopyUp               bool
				Options              string
			}
		}
	}
	assert.NilError(t, json.Unmarshal(r.Body, &raw))
	// The CLI cleans the path ("/spaced/" is "/spaced") and never splits
	// the options on commas.
	assert.DeepEqual(t, raw.HostConfig.Tmpfs, map[string]string{"/run": "", "/tmp": "size=64m", "/spaced": "rw,exec", "/e": ""})
	assert.Equal(t, raw.HostConfig.ReadonlyRootfs, true)
	assert.Equal(t, string(raw.HostConfig.Mounts),
		`[{"Type":"tmpfs","Target":"/app"},{"Type":"tmpfs","Target":"/ro","ReadOnly":true,"TmpfsOptions":{"Mode":1016}}]`)
	assert.Equal(t, string(raw.Mounts),
		`[{"Type":"tmpfs","Source":"","Destination":"/app","Mode":"","RW":true,"Propagation":""},`+
			`{"Type":"tmpfs","Source":"","Destination":"/ro","Mode":"","RW":false,"Propagation":""}]`)

	// Berth's own key, while the container runs.
	tfExecScript(t, d, id, `dd if=/dev/zero of=/tmp/mib bs=1k count=1024 2>/dev/null`)
	r = d.API(t, "GET", "/containers/"+id+"/json", nil)
	assert.Equal(t, r.Status, 200)
	raw.Berth = nil
	assert.NilError(t, json.Unmarshal(r.Body, &raw))
	assert.Assert(t, raw.Berth != nil, "no Berth object in %s", r.Body)
	byDest := map[string]int{}
	for i, m := range raw.Berth.Tmpfs {
		byDest[m.Destination] = i
	}
	assert.Equal(t, len(raw.Berth.Tmpfs), 6, "%+v", raw.Berth.Tmpfs)
	tmp := raw.Berth.Tmpfs[byDest["/tmp"]]
	assert.Equal(t, tmp.SizeBytes, int64(64<<20))
	assert.Assert(t, tmp.UsedBytes >= 1<<20 && tmp.UsedBytes < 2<<20, "used %d", tmp.UsedBytes)
	assert.Equal(t, tmp.Mode, "1777")
	assert.Equal(t, tmp.CopyUp, true)
	assert.Assert(t, strings.Contains(tmp.Options, "size=64m"), tmp.Options)
	run := raw.Berth.Tmpfs[byDest["/run"]]
	assert.Equal(t, run.Mode, "0755")
	assert.Assert(t, run.SizeBytes > 64<<20, "an unlimited tmpfs gets the kernel's default size: %d", run.SizeBytes)
	assert.Assert(t, run.UsedBytes > 0, "the copied-up /run/app takes room")
	ro := raw.Berth.Tmpfs[byDest["/ro"]]
	assert.Equal(t, ro.Mode, "1770")

	// The Docker Go client still decodes the response.
	res, err := d.Client(t).ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	assert.NilError(t, err)
	assert.Equal(t, res.Container.HostConfig.Tmpfs["/tmp"], "size=64m")
	assert.Equal(t, len(res.Container.Mounts), 2)

	// berth tmpfs prints the table.
	out := d.OK(t, "tmpfs", id)
	lines := strings.Split(out, "\n")
	assert.Equal(t, strings.Join(strings.Fields(lines[0]), " "), "DESTINATION SIZE USED USE% MODE OWNER COPYUP")
	assert.Equal(t, len(lines), 7, out)
	var tmpRow []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); f[0] == "/tmp" {
			tmpRow = f
		}
	}
	assert.DeepEqual(t, tmpRow[:2], []string{"/tmp", "64MiB"})
	assert.DeepEqual(t, tmpRow[3:], []string{"2%", "1777", "0:0", "yes"})
	js := d.OK(t, "tmpfs", "--json", id)
	assert.Assert(t, strings.Contains(js, `"Destination": "/app"`), js)

	// Stopped: no usage, and berth tmpfs says why.
	d.OK(t, "stop", "-t", "0", id)
	r = d.API(t, "GET", "/containers/"+id+"/json", nil)
	assert.Assert(t, !strings.Contains(string(r.Body), `"Berth"`), "a stopped container has no Berth object")
	d.Fails(t, 1, []string{"is not running"}, "tmpfs", id)
	d.Fails(t, 1, []string{"No such container"}, "tmpfs", "nosuch")
}

// TestTmpfsOptions checks, on every runtime, the option forms of the
// contract as the process sees them: the --mount keys (Docker's and
// Berth's), TmpfsOptions from the raw API (SizeBytes, Mode, Options with
// uid, exec, notmpcopyup), the size forms, the kernel options and the
// whole list of accepted mount flags.
func TestTmpfsOptions(t *testing.T) {
	d := harness.NewWithImage(t)
	meminfo := tfRunScript(t, d, "runc", nil, `awk '/^MemTotal:/ {print "memtotal=" $2}' /proc/meminfo`)
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		t.Run("cli", func(t *testing.T) {
			kv := tfRunScript(t, d, rt, []string{"--read-only",
				"--mount", "type=tmpfs,dst=/run,tmpfs-copyup=false", "--tmpfs", "/etc:notmpcopyup",
				"--mount", "type=tmpfs,destination=/c1,tmpfs-size=4m,tmpfs-mode=0700,tmpfs-uid=1000,tmpfs-gid=app,tmpfs-exec",
				"--mount", "type=tmpfs,target=/c2,ro",
				"--mount", "type=tmpfs,dst=/tmp,tmpfs-copyup",
				"--tmpfs", "/s1:size=65536k", "--tmpfs", "/s2:size=64m", "--tmpfs", "/s3:size=1g",
				"--tmpfs", "/s4:size=50%", "--tmpfs", "/s5:size=1048576",
				"--tmpfs", "/k1:huge=within_size", "--tmpfs", "/k2:noswap", "--tmpfs", "/k3:inode64,nr_inodes=1k,nr_blocks=256",
				"--tmpfs", "/all:ro,rw,noexec,exec,suid,nosuid,nodev,dev,noatime,atime,nodiratime,diratime,norelatime,relatime," +
					"nostrictatime,strictatime,sync,async,dirsync,nomand,mand,nomand,private,shared,slave,unbindable,runbindable,rshared,rslave,rprivate," +
					"size=1m,mode=751,uid=0,gid=0,nr_inodes=1k,nr_blocks=256,mpol=default,tmpcopyup,defaults",
			}, `
echo "run=$(ls -A /run | tr '\n' ' ')"
echo "etc=$(ls -A /etc | tr '\n' ' ')"
echo "tmp=$(cat /tmp/seed.txt)"
echo "st_c1=$(st /c1)"
cp /bin/busybox /c1/echo; echo "exec_c1=$(/c1/echo yes 2>&1)"
echo "c2=$(w /c2/f)"
echo "st_all=$(st /all)"
echo "all_w=$(w /all/f)"
awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts
`)
			// size=50% is half of the RAM (as the kernel counts it at mount
			// time: allow for a balloon's small changes).
			memK := tfAtoi(t, meminfo["memtotal"])
			_, s4, _ := strings.Cut(kv["mnt_/s4"], "size=")
			s4K := tfAtoi(t, strings.TrimSuffix(strings.Split(s4, ",")[0], "k"))
			assert.Assert(t, s4K > memK/2-memK/1000 && s4K < memK/2+memK/1000, "size=50%% gave %dk of %dk RAM", s4K, memK)
			tfCheck(t, kv, []tfWant{
				{Key: "run", Equal: ""},
				{Key: "etc", Equal: "hostname hosts resolv.conf"}, // only the network files' mount points
				{Key: "tmp", Equal: "image-tmp"},
				{Key: "st_c1", Equal: "700 1000 1000"},
				{Key: "exec_c1", Equal: "yes"},
				{Key: "c2", Contains: "Read-only file system"},
				{Key: "mnt_/c1", Contains: "size=4096k"},
				{Key: "mnt_/c2", Contains: "tmpfs ro,nosuid,nodev,noexec"},
				{Key: "mnt_/s1", Contains: "size=65536k"},
				{Key: "mnt_/s2", Contains: "size=65536k"},
				{Key: "mnt_/s3", Contains: "size=1048576k"},
				{Key: "mnt_/s5", Contains: "size=1024k"},
				{Key: "mnt_/k1", Contains: "huge=within_size"},
				{Key: "mnt_/k2", Contains: "noswap"},
				{Key: "mnt_/k3", Contains: "nr_inodes=1024"},
				{Key: "mnt_/k3", Contains: "inode64"},
				{Key: "mnt_/k3", Contains: "size=1024k"},
				{Key: "st_all", Equal: "751 0 0"},
				{Key: "all_w", Equal: "ok"},
				// Last wins per flag: rw, exec, nosuid, dev, strictatime
				// (shown as no *atime word), async, dirsync, nomand.
				{Key: "mnt_/all", Equal: "tmpfs rw,dirsync,nosuid,size=1024k,nr_inodes=1024,mode=751"},
			})
		})

		t.Run("api", func(t *testing.T) {
			script := tfScript + `
echo "st_m1=$(st /m1)"
echo "st_m2=$(st /m2)"
cp /bin/busybox /m3/echo; echo "exec_m3=$(/m3/echo yes 2>&1)"
echo "run=$(ls -A /run | tr '\n' ' ')"
echo "st_t1=$(st /t1)"
echo "st_slash=$(st /slash)"
awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts
`
			ctx := context.Background()
			c := d.Client(t)
			id := container.Run(ctx, t, c,
				container.WithCmd("sh", "-c", script), container.WithReadonlyRootfs(), container.WithRuntime(rt),
				container.WithTmpfs("/t1:uid=app,gid=app,mode=1770"), container.WithTmpfs("/slash/"),
				container.WithTmpfsMount("/m1", &mount.TmpfsOptions{SizeBytes: 4 << 20, Mode: 0o700}),
				container.WithTmpfsMount("/m2", &mount.TmpfsOptions{Options: [][]string{{"uid", "1000"}, {"gid", "1000"}}}),
				container.WithTmpfsMount("/m3", &mount.TmpfsOptions{Options: [][]string{{"exec"}}}),
				container.WithTmpfsMount("/run", &mount.TmpfsOptions{Options: [][]string{{"notmpcopyup"}}}),
			)
			d.OK(t, "wait", id)
			kv := tfParse(d.OK(t, "logs", id))
			tfCheck(t, kv, []tfWant{
				{Key: "st_m1", Equal: "700 0 0"},
				{Key: "mnt_/m1", Contains: "size=4096k"},
				{Key: "st_m2", Equal: "1777 1000 1000"},
				{Key: "exec_m3", Equal: "yes"},
				{Key: "run", Equal: ""},
				{Key: "st_t1", Equal: "1770 1000 1000"},
				{Key: "st_slash", Equal: "1777 0 0"},
			})
			// HostConfig.Tmpfs is echoed verbatim, uncleaned key included.
			r := d.API(t, "GET", "/containers/"+id+"/json", nil)
			var insp struct {
				HostConfig struct{ Tmpfs map[string]string }
			}
			assert.NilError(t, json.Unmarshal(r.Body, &insp))
			assert.DeepEqual(t, insp.HostConfig.Tmpfs, map[string]string{"/t1": "uid=app,gid=app,mode=1770", "/slash/": ""})
			d.OK(t, "rm", id)
		})
	})
}
