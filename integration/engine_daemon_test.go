package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"

	"github.com/berth-project/berth/integration/internal/harness"
)

// engBerthd runs a second berthd that is expected to refuse to start, and
// returns its output and exit code.
func engBerthd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	res := harness.Run(t, harness.Command{Bin: filepath.Join(harness.Binaries(t), "berthd"), Args: args, Timeout: 15 * time.Second})
	return res.Combined(), res.ExitCode
}

// TestEngineDaemonRefusesSharedState: a second daemon never shares the data
// root, the exec root or the socket of a running one, and says why.
func TestEngineDaemonRefusesSharedState(t *testing.T) {
	d := harness.New(t)
	other := t.TempDir()
	empty := filepath.Join(other, "empty.json")
	assert.NilError(t, os.WriteFile(empty, []byte("{}"), 0o600))

	poll.WaitOn(t, func(poll.LogT) poll.Result {
		st, err := os.Stat(d.Sock)
		if err != nil {
			return poll.Error(err)
		}
		if st.Mode().Perm() != 0o660 {
			return poll.Continue("socket mode %o", st.Mode().Perm())
		}
		return poll.Success()
	}, poll.WithTimeout(5*time.Second))

	out, code := engBerthd(t, "--data-root", d.DataRoot, "--exec-root", filepath.Join(other, "exec1"),
		"-H", "unix://"+filepath.Join(other, "s1.sock"), "--config-file", empty)
	assert.Assert(t, code != 0, out)
	assert.Assert(t, is.Contains(out, d.DataRoot))
	assert.Assert(t, is.Contains(out, "in use by another berthd"))

	out, code = engBerthd(t, "--data-root", filepath.Join(other, "data2"), "--exec-root", d.ExecRoot,
		"-H", "unix://"+filepath.Join(other, "s2.sock"), "--config-file", empty)
	assert.Assert(t, code != 0, out)
	assert.Assert(t, is.Contains(out, "in use by another berthd"))

	out, code = engBerthd(t, "--data-root", filepath.Join(other, "data3"), "--exec-root", filepath.Join(other, "exec3"),
		"-H", d.Host(), "--config-file", empty)
	assert.Assert(t, code != 0, out)
	assert.Assert(t, is.Contains(out, "another daemon is listening on "+d.Sock))

	// The refused daemons took nothing away from the running one.
	_, err := os.Stat(d.Sock)
	assert.NilError(t, err, "the refused daemon removed the socket of the running one")
	d.OK(t, "version")
	_, err = os.Stat(filepath.Join(other, "s3.sock"))
	assert.Assert(t, os.IsNotExist(err))
}

// TestEngineDaemonConfig: daemon.json keys apply, --runtime takes a path,
// an unknown key or runtime refuses the start with a clear message.
func TestEngineDaemonConfig(t *testing.T) {
	runc, err := exec.LookPath("runc")
	assert.NilError(t, err)
	d := harness.New(t, func(d *harness.Daemon) {
		// the harness passes --config-file ROOT/daemon.json
		assert.NilError(t, os.WriteFile(filepath.Join(d.Root, "daemon.json"),
			[]byte(`{"default-shm-size": "32m", "log-level": "info"}`), 0o600))
	}, harness.WithArgs("--runtime", runc))
	d.LoadImage(t)
	out := d.OK(t, "run", "--rm", "--network", "none", "busybox", "sh", "-c", "df -k /dev/shm | tail -n 1")
	assert.Assert(t, is.Contains(out, "32768"), "default-shm-size from daemon.json: %s", out)
	out = d.OK(t, "info", "--format", "{{.DefaultRuntime}}")
	assert.Equal(t, out, runc)
	// --log-level debug on the command line beats the file's info.
	assert.Assert(t, is.Contains(d.Log(), "level=DEBUG"))

	other := t.TempDir()
	bad := filepath.Join(other, "bad.json")
	assert.NilError(t, os.WriteFile(bad, []byte(`{"no-such-key": true}`), 0o600))
	args := func(extra ...string) []string {
		return append([]string{"--data-root", filepath.Join(other, "data"), "--exec-root", filepath.Join(other, "exec"),
			"-H", "unix://" + filepath.Join(other, "s.sock")}, extra...)
	}
	msg, code := engBerthd(t, args("--config-file", bad)...)
	assert.Assert(t, code != 0, msg)
	assert.Assert(t, is.Contains(msg, "no-such-key"))

	msg, code = engBerthd(t, args("--config-file", filepath.Join(other, "missing.json"))...)
	assert.Assert(t, code != 0, msg)
	assert.Assert(t, is.Contains(msg, "missing.json"))

	empty := filepath.Join(other, "empty.json")
	assert.NilError(t, os.WriteFile(empty, []byte("{}"), 0o600))
	msg, code = engBerthd(t, args("--config-file", empty, "--runtime", "no-such-runtime")...)
	assert.Assert(t, code != 0, msg)
	assert.Assert(t, is.Contains(msg, "no-such-runtime"))
	_, err = os.Stat(filepath.Join(other, "s.sock"))
	assert.Assert(t, os.IsNotExist(err), "a daemon that refused to start left its socket")
}

// TestEngineDaemonRestart: containers outlive a daemon crash (kill -9) and
// a clean stop; the new daemon finds them again with their logs, records
// the later exit of a running one, and marks one whose shim died as exited.
func TestEngineDaemonRestart(t *testing.T) {
	d := harness.NewWithImage(t)
	ctl := t.TempDir()
	d.OK(t, "run", "-d", "--name", "survivor", "--network", "none", "-v", ctl+":/ctl", "busybox",
		"sh", "-c", "echo before; while [ ! -f /ctl/go ]; do sleep 0.05; done; echo after; exit 42")
	d.OK(t, "run", "-d", "--name", "victim", "--network", "none", "busybox", "sleep", "1000")
	res := d.Berth(t, "run", "--name", "finished", "--network", "none", "busybox", "sh", "-c", "echo finished; exit 3")
	assert.Equal(t, res.ExitCode, 3, res.Combined())
	d.WaitLogs(t, "survivor", "before")
	pid := d.Inspect(t, "survivor", "{{.State.Pid}}")
	victimID := d.Inspect(t, "victim", "{{.Id}}")
	victimPid, err := strconv.Atoi(d.Inspect(t, "victim", "{{.State.Pid}}"))
	assert.NilError(t, err)
	// The shim of "finished" ends a moment after its run returned.
	harness.Poll(t, func() (bool, string) {
		shims := d.Shims()
		return len(shims) == 2, fmt.Sprintf("shims %v, want one per running container (2)", shims)
	})

	d.Kill(t)
	assert.Equal(t, len(d.Shims()), 2, "shims must survive a daemon crash")
	// While the daemon is gone, the victim's shim dies too.
	out, err := exec.Command("pgrep", "-f", "berth-shim shim "+filepath.Join(d.ExecRoot, "containers", victimID)).Output()
	assert.NilError(t, err, "victim's shim not found")
	shimPid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	assert.NilError(t, err)
	assert.NilError(t, syscall.Kill(shimPid, syscall.SIGKILL))
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if syscall.Kill(shimPid, 0) == nil {
			return poll.Continue("shim %d still alive", shimPid)
		}
		return poll.Success()
	})

	// A crashed daemon leaves its socket file: the harness would take it for
	// the new daemon's.
	assert.NilError(t, os.Remove(d.Sock))
	d.Start(t)
	assert.Equal(t, d.Inspect(t, "survivor", "{{.State.Status}} {{.State.Pid}}"), "running "+pid)
	assert.Equal(t, d.OK(t, "logs", "survivor"), "before")
	assert.Equal(t, d.Inspect(t, "finished", "{{.State.Status}} {{.State.ExitCode}}"), "exited 3")
	assert.Equal(t, d.OK(t, "logs", "finished"), "finished")
	assert.Equal(t, d.Inspect(t, "victim", "{{.State.Status}}"), "exited")
	assert.Assert(t, d.Inspect(t, "victim", "{{.State.ExitCode}}") != "0")
	// The container process of the lost shim does not linger.
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if syscall.Kill(victimPid, 0) == nil {
			return poll.Continue("the victim's process %d still runs after its shim died", victimPid)
		}
		return poll.Success()
	}, poll.WithTimeout(10*time.Second))
	ps := d.OK(t, "ps", "--format", "{{.Names}}")
	assert.Equal(t, ps, "survivor")

	// A clean stop and start keeps it running too.
	d.Restart(t)
	assert.Equal(t, d.Inspect(t, "survivor", "{{.State.Status}} {{.State.Pid}}"), "running "+pid)

	// Its exit after the restarts is recorded, and a wait started now sees it.
	waited := make(chan string, 1)
	go func() { waited <- d.Berth(t, "wait", "survivor").Stdout }()
	assert.NilError(t, os.WriteFile(filepath.Join(ctl, "go"), nil, 0o644))
	select {
	case out := <-waited:
		assert.Equal(t, strings.TrimSpace(out), "42")
	case <-time.After(30 * time.Second):
		t.Fatal("berth wait did not return after the container exited")
	}
	assert.Equal(t, d.Inspect(t, "survivor", "{{.State.Status}} {{.State.ExitCode}}"), "exited 42")
	assert.Equal(t, d.OK(t, "logs", "survivor"), "before\nafter")
	// The shim ends a moment after it reported the exit.
	harness.Poll(t, func() (bool, string) {
		shims := d.Shims()
		return len(shims) == 0, fmt.Sprintf("shims still running after the exit: %v", shims)
	})

	// And the restarted container runs again.
	d.OK(t, "start", "survivor")
	assert.Equal(t, d.OK(t, "wait", "survivor"), "42")
	assert.Equal(t, d.OK(t, "logs", "survivor"), "before\nafter\nbefore\nafter")
}

// TestEngineShimBinary: the shims are berth-shim, the program next to
// berthd that links only the supervisor; each runs in a mount namespace of
// its own that is a slave of the host's (a shared host mount is a slave
// there, never a peer).
func TestEngineShimBinary(t *testing.T) {
	shared := t.TempDir()
	assert.NilError(t, syscall.Mount("tmpfs", shared, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { _ = syscall.Unmount(shared, syscall.MNT_DETACH) })
	assert.NilError(t, syscall.Mount("", shared, "", syscall.MS_SHARED, ""))

	d := harness.NewWithImage(t)
	id := d.OK(t, "run", "-d", "--network", "none", "--read-only", "--tmpfs", "/run", "busybox", "sleep", "1000")
	raw, err := os.ReadFile(filepath.Join(d.ExecRoot, "containers", id, "shim.pid"))
	assert.NilError(t, err)
	pid := strings.TrimSpace(string(raw))
	exe, err := os.Readlink("/proc/" + pid + "/exe")
	assert.NilError(t, err)
	assert.Equal(t, filepath.Base(exe), "berth-shim")
	cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline")
	assert.NilError(t, err)
	assert.Equal(t, strings.Split(string(cmdline), "\x00")[1], "shim")
	own, err := os.Readlink("/proc/" + pid + "/ns/mnt")
	assert.NilError(t, err)
	host, err := os.Readlink("/proc/self/ns/mnt")
	assert.NilError(t, err)
	assert.Assert(t, own != host, "the shim shares the host's mount namespace")
	info, err := os.ReadFile("/proc/" + pid + "/mountinfo")
	assert.NilError(t, err)
	found := false
	for _, line := range strings.Split(string(info), "\n") {
		if f := strings.Fields(line); len(f) > 6 && f[4] == shared {
			found = true
			assert.Assert(t, is.Contains(line, "master:"), "the shared host mount in the shim: %s", line)
			assert.Assert(t, !strings.Contains(line, "shared:"), "the shared host mount in the shim: %s", line)
		}
	}
	assert.Assert(t, found, "the shim does not see %s:\n%s", shared, info)
	d.OK(t, "rm", "-f", id)
}
