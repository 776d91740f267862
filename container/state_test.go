package container

import (
	"testing"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
)

func TestStateTransitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to containertypes.ContainerState
		ok       bool
	}{
		{containertypes.StateCreated, containertypes.StateRunning, true},
		{containertypes.StateCreated, containertypes.StatePaused, false},
		{containertypes.StateRunning, containertypes.StateRemoving, false},
		{containertypes.StateRunning, containertypes.StateExited, true},
		{containertypes.StateExited, containertypes.StateRunning, true},
		{containertypes.StatePaused, containertypes.StateRemoving, false},
		{containertypes.StateRemoving, containertypes.StateDead, true},
		{containertypes.StateDead, containertypes.StateRunning, false},
	}
	for _, tc := range tests {
		s := State{Status: tc.from}
		err := s.Transition(tc.to)
		if tc.ok {
			assert.NilError(t, err, "%s -> %s", tc.from, tc.to)
			assert.Equal(t, s.Status, tc.to)
		} else {
			assert.Assert(t, errdefs.IsConflict(err), "%s -> %s: %v", tc.from, tc.to, err)
			assert.Equal(t, s.Status, tc.from)
		}
	}
}

func TestStateRunExit(t *testing.T) {
	t.Parallel()
	s := State{Status: containertypes.StateCreated}
	now := time.Unix(1700000000, 0)
	assert.NilError(t, s.SetRunning(42, now))
	api := s.API()
	assert.Assert(t, api.Running)
	assert.Equal(t, api.Pid, 42)
	assert.NilError(t, s.SetExited(3, now.Add(time.Second), ""))
	api = s.API()
	assert.Assert(t, !api.Running)
	assert.Equal(t, api.ExitCode, 3)
	assert.Equal(t, api.Pid, 0)
	assert.Equal(t, api.FinishedAt, "2023-11-14T22:13:21Z")
	assert.Equal(t, (&State{}).API().StartedAt, "0001-01-01T00:00:00Z")
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	s := State{Status: containertypes.StateCreated}
	assert.Assert(t, !s.CanTransition(containertypes.StateDead))
	s.Reconcile(containertypes.StateDead)
	assert.Equal(t, s.Status, containertypes.StateDead)
}

func TestSetRestarting(t *testing.T) {
	t.Parallel()
	s := State{Status: containertypes.StateRunning, Pid: 42, Health: &containertypes.Health{Status: containertypes.Healthy}}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.NilError(t, s.SetRestarting(3, at, ""))
	assert.Equal(t, s.Status, containertypes.StateRestarting)
	api := s.API()
	// As Docker: restarting is also running, with the last exit code.
	assert.Check(t, api.Restarting && api.Running)
	assert.Equal(t, api.ExitCode, 3)
	assert.Equal(t, api.Pid, 0)
	assert.Equal(t, api.Health.Status, containertypes.Healthy)
	// It may be removed (rm -f), stopped or started.
	for _, next := range []containertypes.ContainerState{containertypes.StateRemoving, containertypes.StateExited, containertypes.StateRunning} {
		assert.Check(t, s.CanTransition(next), "%s", next)
	}
	assert.Check(t, !s.CanTransition(containertypes.StatePaused))
}
