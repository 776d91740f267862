package daemon

import (
	"testing"

	"github.com/berth-project/berth/daemon/shim"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
)

func TestDecideRestore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		recorded containertypes.ContainerState
		shim     shim.Status
		want     restoreAction
	}{
		// No shim answers.
		{containertypes.StateCreated, "", restoreClean},
		{containertypes.StateExited, "", restoreClean},
		{containertypes.StateRunning, "", restoreLost},
		{containertypes.StatePaused, "", restoreLost},
		{containertypes.StateRestarting, "", restoreLost},
		// The daemon died between the start and recording it: adopt.
		{containertypes.StateCreated, "running", restoreAdopt},
		{containertypes.StateExited, "running", restoreAdopt},
		{containertypes.StateRunning, "running", restoreAdopt},
		{containertypes.StateRunning, "paused", restoreAdopt},
		{containertypes.StatePaused, "running", restoreAdopt},
		// The daemon died inside a start, before asking for it.
		{containertypes.StateCreated, "created", restoreEndNeverStarted},
		{containertypes.StateExited, "created", restoreEndNeverStarted},
		{containertypes.StateExited, "unknown", restoreEndNeverStarted},
		{containertypes.StateRunning, "created", restoreEndAndRecord},
		// The run ended while no daemon watched (a stop, a kill).
		{containertypes.StateRunning, "stopped", restoreFinished},
		{containertypes.StateCreated, "stopped", restoreFinished},
	}
	for _, tc := range cases {
		assert.Equal(t, decideRestore(tc.recorded, tc.shim), tc.want, "recorded %s, shim %q", tc.recorded, tc.shim)
	}
}
