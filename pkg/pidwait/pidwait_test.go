package pidwait

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Exited returns once the child has exited, before it is reaped: the
// process is then a zombie until Wait.
func TestExited(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("cat")
	cmd.Stdin = r
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		Exited(cmd.Process.Pid)
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("Exited returned while the process runs")
	default:
	}
	w.Close() // cat reads EOF and exits
	<-done
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	// The state follows the command name in parentheses.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if fields[0] != "Z" {
		t.Errorf("state %q after Exited, want Z (exited, not reaped)", fields[0])
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// A process that is gone (here: never was) does not block.
func TestExitedGone(t *testing.T) {
	t.Parallel()
	Exited(1 << 30)
}
