package daemon

import (
	"testing"

	"github.com/berth-project/berth/container"
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

func TestRemoveAtRestore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		autoRemove bool
		status     containertypes.ContainerState
		want       bool
	}{
		{true, containertypes.StateCreated, true},
		{true, containertypes.StateExited, true},
		{true, containertypes.StateDead, true},
		{true, containertypes.StateRunning, false},
		{true, containertypes.StatePaused, false},
		{true, containertypes.StateRestarting, false},
		{false, containertypes.StateExited, false},
		{false, containertypes.StateCreated, false},
	}
	for _, tc := range cases {
		c := &container.Container{HostConfig: &containertypes.HostConfig{AutoRemove: tc.autoRemove}}
		c.State.Status = tc.status
		if got := removeAtRestore(c); got != tc.want {
			t.Errorf("AutoRemove=%v status %s: got %v, want %v", tc.autoRemove, tc.status, got, tc.want)
		}
	}
	if removeAtRestore(&container.Container{}) {
		t.Error("a container without a host config is removed")
	}
}
