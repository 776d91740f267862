package shim

import (
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestLifecycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ops  []operation // applied in order from a new container
		want Status      // the status after the last one
		err  string      // refusal of the last one, if any
	}{
		{name: "new", want: StatusCreated},
		{name: "start", ops: []operation{opStart}, want: StatusRunning},
		{name: "kill before start", ops: []operation{opKill}, want: StatusCreated},
		{name: "exit before start", ops: []operation{opExit}, want: StatusStopped},
		{name: "start after a quick exit", ops: []operation{opExit, opStart}, want: StatusStopped},
		{name: "start twice", ops: []operation{opStart, opStart}, want: StatusRunning, err: "cannot start the container: it is already started"},
		{name: "start after exit of a started one", ops: []operation{opStart, opExit, opStart}, want: StatusStopped, err: "cannot start the container: it is already started"},
		{name: "start again after a quick exit", ops: []operation{opExit, opStart, opStart}, want: StatusStopped, err: "cannot start the container: it is already started"},
		{name: "pause before start", ops: []operation{opPause}, want: StatusCreated, err: "cannot pause the container: it is created"},
		{name: "pause", ops: []operation{opStart, opPause}, want: StatusPaused},
		{name: "pause twice", ops: []operation{opStart, opPause, opPause}, want: StatusPaused, err: "cannot pause the container: it is paused"},
		{name: "resume", ops: []operation{opStart, opPause, opResume}, want: StatusRunning},
		{name: "resume a running one", ops: []operation{opStart, opResume}, want: StatusRunning, err: "cannot resume the container: it is running"},
		{name: "kill running", ops: []operation{opStart, opKill}, want: StatusRunning},
		{name: "kill paused", ops: []operation{opStart, opPause, opKill}, want: StatusPaused},
		{name: "exit running", ops: []operation{opStart, opExit}, want: StatusStopped},
		{name: "exit paused", ops: []operation{opStart, opPause, opExit}, want: StatusStopped},
		{name: "exit twice", ops: []operation{opStart, opExit, opExit}, want: StatusStopped, err: "cannot exit the container: it is stopped"},
		{name: "kill stopped", ops: []operation{opStart, opExit, opKill}, want: StatusStopped},
		{name: "pause stopped", ops: []operation{opStart, opExit, opPause}, want: StatusStopped, err: "cannot pause the container: it is stopped"},
		{name: "resume stopped", ops: []operation{opStart, opExit, opResume}, want: StatusStopped, err: "cannot resume the container: it is stopped"},
		{name: "delete stopped", ops: []operation{opStart, opExit, opDelete}, want: StatusStopped},
		{name: "delete running", ops: []operation{opStart, opDelete}, want: StatusRunning, err: "cannot delete the container: it is running"},
		{name: "delete created", ops: []operation{opDelete}, want: StatusCreated, err: "cannot delete the container: it is created"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLifecycle()
			var err error
			for i, op := range tc.ops {
				l, err = l.next(op)
				if i < len(tc.ops)-1 {
					assert.NilError(t, err, "operation %d (%s)", i, op)
				}
			}
			assert.Check(t, is.Equal(l.status, tc.want))
			if tc.err == "" {
				assert.Check(t, is.Nil(err))
				return
			}
			assert.Check(t, is.Error(err, tc.err))
			assert.Check(t, errdefs.IsConflict(err), "a refused operation is a conflict")
		})
	}
}

// TestTransitionsComplete keeps the table honest: every status has a row,
// and every operation leads to a known status.
func TestTransitionsComplete(t *testing.T) {
	t.Parallel()
	known := map[Status]bool{StatusCreated: true, StatusRunning: true, StatusPaused: true, StatusStopped: true}
	assert.Check(t, is.Len(transitions, len(known)))
	for from, row := range transitions {
		assert.Check(t, known[from], from)
		for op, to := range row {
			assert.Check(t, known[to], "%s --%s--> %s", from, op, to)
		}
	}
}
