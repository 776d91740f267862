package integration

import (
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestRestartingState: a container waiting for its restart policy's
// back-off is restarting (not exited), is listed by ps, cannot be removed
// without force, and a stop cancels the pending restart.
func TestRestartingState(t *testing.T) {
	d := harness.NewWithImage(t)
	for _, name := range []string{"flap", "flap2"} {
		d.OK(t, "run", "-d", "--name", name, "--network", "none", "--restart", "always", "busybox", "sh", "-c", "exit 3")
	}
	// After 5 restarts the back-off is 3.2 s: time enough to act on it.
	waitRestarting := func(name string) {
		harness.Poll(t, func() (bool, string) {
			var insp containertypes.InspectResponse
			d.API(t, "GET", "/containers/"+name+"/json", nil).Decode(t, 200, &insp)
			return insp.State.Status == "restarting" && insp.RestartCount >= 5, string(insp.State.Status)
		})
	}
	waitRestarting("flap")
	var insp containertypes.InspectResponse
	d.API(t, "GET", "/containers/flap/json", nil).Decode(t, 200, &insp)
	assert.Check(t, insp.State.Restarting && insp.State.Running)
	assert.Check(t, is.Equal(insp.State.ExitCode, 3))
	assert.Check(t, strings.HasPrefix(d.OK(t, "ps", "--filter", "name=flap$", "--format", "{{.Status}}"), "Restarting (3)"))

	r := d.API(t, "DELETE", "/containers/flap", nil)
	assert.Check(t, is.Equal(r.Status, 409))
	assert.Check(t, is.Contains(r.Message(), "container is restarting: stop the container before removing or force remove"))
	d.OK(t, "rm", "-f", "flap")
	d.Fails(t, 1, []string{"No such object: flap"}, "inspect", "flap")

	// A daemon restart during the back-off goes on waiting, then restarts.
	waitRestarting("flap2")
	n := d.Inspect(t, "flap2", "{{.RestartCount}}")
	d.Restart(t)
	harness.Poll(t, func() (bool, string) {
		got := d.Inspect(t, "flap2", "{{.RestartCount}}")
		return got != n, "restart count still " + got
	})

	// A stop ends the wait: exited, so a plain rm works.
	waitRestarting("flap2")
	d.OK(t, "stop", "flap2")
	assert.Check(t, is.Equal(d.Inspect(t, "flap2", "{{.State.Status}}"), "exited"))
	d.OK(t, "rm", "flap2")
}
