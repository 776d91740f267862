package shim

import (
	"os/exec"
	"slices"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

func TestZombieChildren(t *testing.T) {
	cmd := exec.Command("true")
	assert.NilError(t, cmd.Start())
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for !isZombie(pid) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assert.Assert(t, isZombie(pid), "child %d never showed as a zombie", pid)
	assert.Assert(t, slices.Contains(zombieChildren(), pid), "%v", zombieChildren())
	assert.NilError(t, cmd.Wait())
	assert.Assert(t, !isZombie(pid))
	assert.Assert(t, !slices.Contains(zombieChildren(), pid))
}
