package container

import (
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
)

// State is the lifecycle state of a container. A container is in exactly
// one state. Requests change it with Transition (and SetRunning,
// SetExited), which refuse a move the table below does not allow;
// Reconcile is for the daemon's own discoveries, where the record is
// behind what really happened.
type State struct {
	Status     containertypes.ContainerState
	Pid        int
	ExitCode   int
	Error      string
	OOMKilled  bool
	StartedAt  time.Time
	FinishedAt time.Time
	// Health is the container's health-check state; nil without a check.
	Health *containertypes.Health `json:",omitempty"`
}

// transitions lists, for each state, the states it may move to.
var transitions = map[containertypes.ContainerState][]containertypes.ContainerState{
	containertypes.StateCreated:    {containertypes.StateRunning, containertypes.StateExited, containertypes.StateRemoving},
	containertypes.StateRunning:    {containertypes.StatePaused, containertypes.StateExited, containertypes.StateRestarting},
	containertypes.StatePaused:     {containertypes.StateRunning, containertypes.StateExited},
	containertypes.StateRestarting: {containertypes.StateRunning, containertypes.StateExited, containertypes.StateRemoving},
	containertypes.StateExited:     {containertypes.StateRunning, containertypes.StateRemoving, containertypes.StateRestarting},
	containertypes.StateRemoving:   {containertypes.StateDead, containertypes.StateExited, containertypes.StateCreated},
	containertypes.StateDead:       {containertypes.StateRemoving},
}

// CanTransition reports whether the state may move to next.
func (s *State) CanTransition(next containertypes.ContainerState) bool {
	for _, allowed := range transitions[s.Status] {
		if allowed == next {
			return true
		}
	}
	return false
}

// Transition moves the state to next or returns a conflict error.
func (s *State) Transition(next containertypes.ContainerState) error {
	if !s.CanTransition(next) {
		return fmt.Errorf("cannot move container from %s to %s: %w", s.Status, next, errdefs.ErrConflict)
	}
	s.Status = next
	return nil
}

// Reconcile sets the status without the transition check. It is for the
// two places where the record, not the request, is wrong: restore, which
// adopts what it finds on the host whatever the record says, and a removal
// that failed half-way, which leaves the container dead.
func (s *State) Reconcile(status containertypes.ContainerState) {
	s.Status = status
}

// SetRunning records a started process.
func (s *State) SetRunning(pid int, at time.Time) error {
	if err := s.Transition(containertypes.StateRunning); err != nil {
		return err
	}
	s.Pid = pid
	s.ExitCode = 0
	s.Error = ""
	s.OOMKilled = false
	s.StartedAt = at
	return nil
}

// SetExited records the end of the process.
func (s *State) SetExited(code int, at time.Time, errMsg string) error {
	if err := s.Transition(containertypes.StateExited); err != nil {
		return err
	}
	s.Pid = 0
	s.ExitCode = code
	s.Error = errMsg
	s.FinishedAt = at
	return nil
}

// SetRestarting records the end of the process of a container whose
// restart policy starts it again after a back-off: it is restarting, not
// exited, until then.
func (s *State) SetRestarting(code int, at time.Time, errMsg string) error {
	if err := s.SetExited(code, at, errMsg); err != nil {
		return err
	}
	return s.Transition(containertypes.StateRestarting)
}

// IsRunning reports whether the container has a live process (running or
// paused).
func (s *State) IsRunning() bool {
	return s.Status == containertypes.StateRunning || s.Status == containertypes.StatePaused
}

// API returns the state as the Engine API shows it.
func (s *State) API() *containertypes.State {
	restarting := s.Status == containertypes.StateRestarting
	st := &containertypes.State{
		Status: s.Status,
		// As Docker: a restarting container is still "running".
		Running:    s.IsRunning() || restarting,
		Paused:     s.Status == containertypes.StatePaused,
		Restarting: restarting,
		OOMKilled:  s.OOMKilled,
		Dead:       s.Status == containertypes.StateDead,
		Pid:        s.Pid,
		ExitCode:   s.ExitCode,
		Error:      s.Error,
		StartedAt:  apiTime(s.StartedAt),
		FinishedAt: apiTime(s.FinishedAt),
	}
	if s.Health != nil {
		h := *s.Health
		h.Log = append([]*containertypes.HealthcheckResult{}, s.Health.Log...)
		st.Health = &h
	}
	return st
}

func apiTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
