package daemon

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// lockHolderEnv makes the test binary play a daemon holding a root's lock.
const lockHolderEnv = "BERTH_TEST_LOCK_HOLDER"

// TestLockDirNotInherited: the lock of a root belongs to the daemon process
// alone. A child that shares the daemon's open lock file, as every child
// does between fork and exec (a shim for a while: it makes its mount
// namespace private first), does not keep the root locked once the daemon
// was killed.
func TestLockDirNotInherited(t *testing.T) {
	if dir := os.Getenv(lockHolderEnv); dir != "" {
		holdLock(dir)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	holder := exec.Command(os.Args[0], "-test.run=^TestLockDirNotInherited$")
	holder.Env = append(os.Environ(), lockHolderEnv+"="+dir)
	holder.Stderr = os.Stderr
	out, err := holder.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, holder.Start())
	t.Cleanup(func() {
		_ = holder.Process.Kill()
		_ = holder.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	assert.NilError(t, err, "the lock holder did not report")
	childPid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "child "))
	assert.NilError(t, err, "lock holder: %q", line)
	t.Cleanup(func() { _ = syscall.Kill(childPid, syscall.SIGKILL) })

	_, err = lockDir(dir)
	assert.Check(t, is.ErrorContains(err, "in use by another berthd"))

	assert.NilError(t, holder.Process.Kill())
	_ = holder.Wait()
	assert.NilError(t, syscall.Kill(childPid, 0), "the child must outlive the holder for the test to mean anything")
	f, err := lockDir(dir)
	assert.NilError(t, err, "the killed daemon's child kept the root locked")
	f.Close()
}

// holdLock locks dir, starts a child sharing the open lock file, reports
// the child's pid and waits to be killed.
func holdLock(dir string) {
	f, err := lockDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	child := exec.Command("sleep", "60")
	child.ExtraFiles = []*os.File{f}
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("child %d\n", child.Process.Pid)
	for {
		time.Sleep(time.Hour)
	}
}
