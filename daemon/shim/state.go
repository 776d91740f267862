package shim

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// Status is where a container is in its life, as its shim reports it.
type Status string

// The statuses of a container in its shim.
const (
	// StatusCreated: the runtime has started the process, its output is
	// held back until the daemon asks for the start.
	StatusCreated Status = "created"
	StatusRunning Status = "running"
	StatusPaused  Status = "paused"
	// StatusStopped: the process has exited and its exit is recorded.
	StatusStopped Status = "stopped"
)

// operation is something that happens to a container in its shim: a
// request of the daemon (start, pause, resume, kill), the reaping of its
// process (exit), or the removal of the runtime's state (delete).
type operation string

const (
	opStart  operation = "start"
	opPause  operation = "pause"
	opResume operation = "resume"
	opKill   operation = "kill"
	opExit   operation = "exit"
	opDelete operation = "delete"
)

// transitions is the container's state machine, the one place that says
// which operations each status allows and the status each leads to. An
// operation missing from a status's row is refused.
var transitions = map[Status]map[operation]Status{
	StatusCreated: {
		opStart: StatusRunning,
		opKill:  StatusCreated,
		opExit:  StatusStopped,
	},
	StatusRunning: {
		opPause: StatusPaused,
		opKill:  StatusRunning,
		opExit:  StatusStopped,
	},
	StatusPaused: {
		opResume: StatusRunning,
		opKill:   StatusPaused,
		opExit:   StatusStopped,
	},
	StatusStopped: {
		// A process that ends at once is reaped before the daemon's start
		// arrives: the start then only releases its output. It is still
		// the only start (see lifecycle.next).
		opStart: StatusStopped,
		// Signalling a process that is gone has nothing left to do.
		opKill:   StatusStopped,
		opDelete: StatusStopped,
	},
}

// lifecycle is the state of the container in its shim. The zero value is
// not a state: a shim's container begins as newLifecycle().
type lifecycle struct {
	status Status
	// started records the daemon's start, which may come after the exit:
	// a container is started once.
	started bool
}

func newLifecycle() lifecycle { return lifecycle{status: StatusCreated} }

// next returns the state op leads to from l, or, when l does not allow
// op, an error (a conflict) that says why.
func (l lifecycle) next(op operation) (lifecycle, error) {
	if op == opStart && l.started {
		return l, errdefs.ErrConflict.WithMessage("cannot start the container: it is already started")
	}
	to, ok := transitions[l.status][op]
	if !ok {
		return l, errdefs.ErrConflict.WithMessage(fmt.Sprintf("cannot %s the container: it is %s", op, l.status))
	}
	l.status = to
	if op == opStart {
		l.started = true
	}
	return l, nil
}
