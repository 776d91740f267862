package integration

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestInit: --init runs Debian's tini as PID 1 at Docker's path, with the
// command after "--", also on a read-only rootfs; it reaps orphans; the
// daemon's --init makes it the default.
func TestInit(t *testing.T) {
	harness.RequireTool(t, "tini-static")
	d := harness.NewWithImage(t)
	for _, ro := range [][]string{nil, {"--read-only"}} {
		args := append(append([]string{"run", "--rm", "--network", "none", "--init"}, ro...), "busybox", "cat", "/proc/1/cmdline")
		assert.Check(t, is.Equal(d.OK(t, args...), "/sbin/docker-init\x00--\x00cat\x00/proc/1/cmdline\x00"), "%v", ro)
	}
	// Without --init the command is PID 1.
	assert.Check(t, is.Equal(d.OK(t, "run", "--rm", "--network", "none", "busybox", "cat", "/proc/1/cmdline"), "cat\x00/proc/1/cmdline\x00"))
	assert.Check(t, is.Equal(d.Inspect(t, d.OK(t, "create", "--init", "busybox", "true"), "{{.HostConfig.Init}}"), "true"))

	// An orphan that exits is reaped by the init. The command leaves an
	// orphan "sleep 0" behind and execs a process that never waits: with
	// that as PID 1 the orphan would stay a zombie.
	d.OK(t, "run", "-d", "--name", "reaper", "--network", "none", "--init", "busybox", "sh", "-c", `sh -c 'sleep 0 &'; exec sleep 300`)
	harness.Poll(t, func() (bool, string) {
		ps := d.OK(t, "exec", "reaper", "ps", "-o", "stat,args")
		for _, l := range strings.Split(ps, "\n") {
			f := strings.Fields(l)
			if len(f) > 0 && strings.HasPrefix(f[0], "Z") || len(f) == 3 && f[1] == "sleep" && f[2] == "0" {
				return false, ps // a zombie, or the orphan still runs
			}
		}
		return true, ps
	})
	assert.Check(t, is.Contains(d.OK(t, "exec", "reaper", "ps", "-o", "pid,args"), "1 /sbin/docker-init -- sh -c"))

	// The daemon's --init is the default; --init=false still wins.
	di := harness.NewWithImage(t, harness.WithArgs("--init"))
	assert.Check(t, strings.HasPrefix(di.OK(t, "run", "--rm", "--network", "none", "busybox", "cat", "/proc/1/cmdline"), "/sbin/docker-init\x00"))
	assert.Check(t, strings.HasPrefix(di.OK(t, "run", "--rm", "--network", "none", "--init=false", "busybox", "cat", "/proc/1/cmdline"), "cat\x00"))
}

// TestGroupAdd: --group-add takes group names of the image's /etc/group
// and numbers; an unknown name is refused at create.
func TestGroupAdd(t *testing.T) {
	d := harness.NewWithImage(t)
	groups := strings.Fields(d.OK(t, "run", "--rm", "--network", "none", "--user", "1000", "--group-add", "nogroup", "--group-add", "4242", "busybox", "id", "-G"))
	assert.Check(t, is.DeepEqual(groups, []string{"1000", "4242", "65534"}))
	// exec processes get them too, also as another user.
	d.OK(t, "run", "-d", "--name", "grp", "--network", "none", "--group-add", "4242", "busybox", "sleep", "300")
	assert.Check(t, is.Contains(d.OK(t, "exec", "grp", "id", "-G"), "4242"))
	assert.Check(t, is.DeepEqual(strings.Fields(d.OK(t, "exec", "-u", "app", "grp", "id", "-G")), []string{"1000", "4242"}))
	before := d.Snapshot(t)
	d.Fails(t, 125, []string{"unable to find group nosuch"}, "create", "--group-add", "nosuch", "busybox", "true")
	d.AssertUnchanged(t, before, "unknown group")
}
