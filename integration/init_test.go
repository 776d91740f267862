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

	// An orphan that exits is reaped by the init: no zombie remains. The
	// inner shell leaves "sleep 0" behind; the outer one waits for the
	// init to have reaped it (a zombie's State line says Z).
	out := d.OK(t, "run", "--rm", "--network", "none", "--init", "busybox", "sh", "-c",
		`sh -c 'sleep 0 & exit 0'; i=0; while grep -q '^State:.*Z' /proc/[0-9]*/status 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null; echo done`)
	assert.Check(t, is.Equal(out, "done"))

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
	before := d.Snapshot(t)
	d.Fails(t, 125, []string{"unable to find group nosuch"}, "create", "--group-add", "nosuch", "busybox", "true")
	d.AssertUnchanged(t, before, "unknown group")
}
