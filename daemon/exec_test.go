package daemon

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
)

func TestMergeEnv(t *testing.T) {
	t.Parallel()
	base := []string{"PATH=/bin", "HOME=/root", "A=1"}
	got := mergeEnv(base, []string{"A=2", "B=3", "HOME=/tmp"})
	assert.DeepEqual(t, got, []string{"PATH=/bin", "HOME=/tmp", "A=2", "B=3"})
	assert.DeepEqual(t, base, []string{"PATH=/bin", "HOME=/root", "A=1"}) // base is not modified
}

func TestExecStore(t *testing.T) {
	t.Parallel()
	var s execStore
	_, err := s.get("nope")
	assert.Check(t, errdefs.IsNotFound(err))
	assert.Error(t, err, "No such exec instance: nope")

	s.add(&execConfig{id: "e1", containerID: "c1", done: make(chan struct{})})
	s.add(&execConfig{id: "e2", containerID: "c2", done: make(chan struct{})})
	e, err := s.get("e1")
	assert.NilError(t, err)
	assert.Equal(t, e.containerID, "c1")

	s.prune(func(id string) bool { return id == "c2" })
	_, err = s.get("e1")
	assert.Check(t, errdefs.IsNotFound(err))
	_, err = s.get("e2")
	assert.NilError(t, err)
}

func TestExecFinishOnce(t *testing.T) {
	t.Parallel()
	e := &execConfig{id: "e", done: make(chan struct{})}
	e.setRunning(nil)
	assert.Check(t, e.running)
	e.finish(3)
	e.finish(4) // a late second report changes nothing
	<-e.done
	assert.Equal(t, *e.exitCode, 3)
	assert.Check(t, !e.running)
	e.setRunning(nil)
	assert.Check(t, !e.running, "a finished exec never runs again")
	<-e.ranChan() // closed: a resize waiting for the process goes on
}

func TestRuntimeExitCode(t *testing.T) {
	t.Parallel()
	assert.Equal(t, runtimeExitCode(errors.New(`exec: "x": executable file not found in $PATH`)), 127)
	assert.Equal(t, runtimeExitCode(errors.New("open /x: no such file or directory")), 127)
	assert.Equal(t, runtimeExitCode(errors.New("permission denied")), 126)
	assert.Equal(t, runtimeExitCode(errors.New("other")), 126)
}
