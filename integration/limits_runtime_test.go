package integration

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// oomScript holds a 64 MB shell variable: more than a 32 MiB container
// may use.
const oomScript = `x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived`

// TestLimitsEnforced checks, on runc and crun, that the limits of berth
// run reach the container's cgroups and rlimits: memory, swap, soft
// limit, CPU quota and shares, pids, OOM score, ulimits.
func TestLimitsEnforced(t *testing.T) {
	d := harness.NewWithImage(t)
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		out := d.OK(t, "run", "--rm", "--network", "none", "--runtime", rt,
			"-m", "32m", "--memory-reservation", "16m", "--cpus", "0.5", "--cpu-shares", "512",
			"--pids-limit", "20", "--oom-score-adj", "300", "--shm-size", "16m", "--ulimit", "nofile=100:200", "--ulimit", "nproc=50:60",
			"busybox", "sh", "-c", `cd /sys/fs/cgroup
for f in memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes \
  cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares pids/pids.max; do echo "$f $(cat $f)"; done
echo "oom_score_adj $(cat /proc/self/oom_score_adj)"
echo "nofile $(ulimit -n) $(ulimit -Hn)"
echo "nproc $(ulimit -u)"
grep " /dev/shm " /proc/mounts | grep -o "size=[0-9a-z]*"`)
		for _, want := range []string{
			"memory/memory.limit_in_bytes 33554432",
			"memory/memory.memsw.limit_in_bytes 67108864", // Docker's default: swap as large as memory
			"memory/memory.soft_limit_in_bytes 16777216",
			"cpu/cpu.cfs_quota_us 50000",
			"cpu/cpu.cfs_period_us 100000",
			"cpu/cpu.shares 512",
			"pids/pids.max 20",
			"oom_score_adj 300",
			"nofile 100 200",
			"nproc 50",
			"size=16384k",
		} {
			assert.Check(t, is.Contains(out+"\n", want+"\n"))
		}
		// Without --ulimit, the open-file limit stays the daemon's own.
		assert.Check(t, is.Equal(d.OK(t, "run", "--rm", "--network", "none", "--runtime", rt, "busybox", "sh", "-c", "ulimit -Hn"), hardNofile(t)))
	})
}

// hardNofile is this process's hard open-file limit, which berthd (started
// by the test) shares.
func hardNofile(t *testing.T) string {
	res := harness.Run(t, harness.Command{Bin: "sh", Args: []string{"-c", "ulimit -Hn"}})
	return strings.TrimSpace(res.Stdout)
}

// TestLimitsOOMAndPids checks, on runc and crun, that a process above its
// memory limit is OOM-killed (State.OOMKilled, exit code 137) and that a
// pids limit makes fork fail.
func TestLimitsOOMAndPids(t *testing.T) {
	d := harness.NewWithImage(t)
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		name := "oom-" + rt
		res := d.Berth(t, "run", "--name", name, "--network", "none", "--runtime", rt, "-m", "32m", "--memory-swap", "32m", "busybox", "sh", "-c", oomScript)
		assert.Equal(t, res.ExitCode, 137, res.Combined())
		assert.Check(t, !strings.Contains(res.Stdout, "survived"))
		assert.Equal(t, d.Inspect(t, name, "{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}"), "true 137 exited")
		// The same container within its limit: no OOM kill recorded.
		d.OK(t, "rm", name)
		d.OK(t, "run", "--name", name, "--network", "none", "--runtime", rt, "-m", "32m", "busybox", "true")
		assert.Equal(t, d.Inspect(t, name, "{{.State.OOMKilled}} {{.State.ExitCode}}"), "false 0")
		d.OK(t, "rm", name)

		res = d.Berth(t, "run", "--rm", "--network", "none", "--runtime", rt, "--pids-limit", "10", "busybox",
			"sh", "-c", "for i in $(seq 20); do sleep 5 & done; echo all-forked")
		assert.Check(t, res.ExitCode != 0, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "can't fork"))
		assert.Check(t, !strings.Contains(res.Stdout, "all-forked"))
	})
}

// TestLimitsUpdate checks, on runc and crun, that berth update changes the
// limits of a running container (the cgroup, inspect, stats) and its
// restart policy, with an update event, and that the new limits persist
// into the next start.
func TestLimitsUpdate(t *testing.T) {
	d := harness.NewWithImage(t)
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		name := "upd-" + rt
		since := strconv.FormatInt(time.Now().Unix()-1, 10)
		d.OK(t, "run", "-d", "--name", name, "--network", "none", "--runtime", rt, "-m", "32m", "busybox", "sleep", "300")
		assert.Equal(t, d.OK(t, "update", "-m", "64m", "--memory-swap", "128m", "--cpus", "1", "--pids-limit", "30", "--restart", "unless-stopped", name), name)
		read := func() string {
			return d.OK(t, "exec", name, "sh", "-c", "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes cpu/cpu.cfs_quota_us pids/pids.max")
		}
		assert.Equal(t, read(), "67108864\n134217728\n100000\n30")
		assert.Equal(t, d.Inspect(t, name, "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}"),
			"67108864 134217728 1000000000 30 unless-stopped")

		var stats containertypes.StatsResponse
		d.API(t, "GET", "/containers/"+name+"/stats?stream=false", nil).Decode(t, 200, &stats)
		assert.Equal(t, stats.MemoryStats.Limit, uint64(64<<20))

		// Docker's rule: a memory limit above the swap limit needs a new swap limit.
		r := d.API(t, "POST", "/containers/"+name+"/update", map[string]any{"Memory": 256 << 20})
		assert.Equal(t, r.Status, 409, r.Message())
		assert.Check(t, is.Contains(r.Message(), "Memory limit should be smaller than already set memoryswap limit"))
		r = d.API(t, "POST", "/containers/"+name+"/update", map[string]any{"Memory": 4 << 20})
		assert.Equal(t, r.Status, 400)
		assert.Equal(t, r.Message(), "Minimum memory limit allowed is 6MB")
		r = d.API(t, "POST", "/containers/"+name+"/update", map[string]any{"Ulimits": []map[string]any{{"Name": "nofile", "Soft": 10, "Hard": 10}}})
		assert.Equal(t, r.Status, 400)
		assert.Check(t, is.Contains(r.Message(), "Ulimits cannot be updated"))
		var resp containertypes.UpdateResponse
		d.API(t, "POST", "/containers/"+name+"/update", map[string]any{"CpuShares": 256}).Decode(t, 200, &resp)
		assert.Check(t, resp.Warnings != nil && len(resp.Warnings) == 0, "Docker answers Warnings: []")

		// The new limits persist into the next start.
		d.OK(t, "restart", "-t", "0", name)
		assert.Equal(t, read(), "67108864\n134217728\n100000\n30")

		// A stopped container's limits change for its next start.
		d.OK(t, "stop", "-t", "0", name)
		assert.Equal(t, d.OK(t, "update", "-m", "96m", name), name)
		d.OK(t, "start", name)
		assert.Check(t, strings.HasPrefix(read(), "100663296\n"))

		evs := d.API(t, "GET", "/events?since="+since+"&until="+strconv.FormatInt(time.Now().Unix()+1, 10)+
			`&filters={"event":["update"],"container":["`+name+`"]}`, nil)
		assert.Equal(t, evs.Status, 200)
		n := 0
		dec := json.NewDecoder(strings.NewReader(string(evs.Body)))
		for dec.More() {
			var m map[string]any
			assert.NilError(t, dec.Decode(&m))
			assert.Equal(t, m["Action"], "update")
			n++
		}
		assert.Equal(t, n, 3, "one update event per successful update")
		d.OK(t, "rm", "-f", name)
	})
}
