package integration

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/berth-project/berth/integration/internal/harness"
)

// The daemon can die at any instruction (issue 8): these tests kill berthd
// while it starts, stops and removes containers, restart it, and compare
// what it reports with what really runs on the host: shim processes,
// container processes, the runtime's state, cgroups and mounts.

// hcWorld is one daemon under test and what the test has learnt of it.
type hcWorld struct {
	t      *testing.T
	d      *harness.Daemon
	c      *client.Client
	marker string          // the sleep argument of every container of this test
	ids    map[string]bool // every container ID seen so far
}

func hcNew(t *testing.T) *hcWorld {
	t.Helper()
	harness.RequireTool(t, "runc")
	harness.RequireTool(t, "crun")
	d := harness.New(t)
	d.LoadImage(t)
	w := &hcWorld{t: t, d: d, c: d.Client(t), ids: map[string]bool{}}
	// A duration no other test uses: it finds this test's container
	// processes on the host, including those no daemon knows any more.
	w.marker = strconv.Itoa(1000000 + rand.New(rand.NewSource(time.Now().UnixNano())).Intn(8999999))
	t.Cleanup(w.killStray)
	return w
}

// killStray ends container processes and removes cgroups a failed run
// left, so that a failure does not leak into the next tests.
func (w *hcWorld) killStray() {
	for pid := range w.markerProcs() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for i := 0; i < 100 && len(w.markerProcs()) > 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	for id := range w.ids {
		for _, dir := range cgroupDirs(id) {
			_ = syscall.Rmdir(dir)
		}
	}
}

// crashRestart reaps a daemon that was killed or killed itself, and starts
// a new one on the same roots.
func (w *hcWorld) crashRestart(t *testing.T) {
	t.Helper()
	w.d.Kill(t)
	// A crashed daemon leaves its socket file behind.
	if err := os.Remove(w.d.Sock); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	w.d.Start(t)
}

var hcIDRe = regexp.MustCompile(`/berth/([0-9a-f]{64})\b`)

// markerProcs maps the host pid of every container process of this test
// to the container ID its cgroup names ("" if none).
func (w *hcWorld) markerProcs() map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	want := "sleep\x00" + w.marker + "\x00"
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || string(cmd) != want {
			continue
		}
		cg, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		id := ""
		if m := hcIDRe.FindSubmatch(cg); m != nil {
			id = string(m[1])
		}
		out[pid] = id
	}
	return out
}

// shims maps the container ID of every shim process of this daemon to its
// pid.
func (w *hcWorld) shims() map[string]int {
	out := map[string]int{}
	for _, p := range w.d.Shims() {
		pid, err := strconv.Atoi(p)
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", p, "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		if len(args) < 3 || args[1] != "shim" {
			continue
		}
		out[filepath.Base(args[2])] = pid
	}
	return out
}

// runtimeState lists the containers the runtimes (the daemon's default,
// crun here, and runc) hold state for under this daemon's runtime root.
func (w *hcWorld) runtimeState() ([]string, error) {
	var ids []string
	for _, rt := range harness.Runtimes {
		root := filepath.Join(w.d.ExecRoot, "runtime", rt)
		if _, err := os.Stat(root); os.IsNotExist(err) {
			continue
		}
		out, err := exec.Command(rt, "--root", root, "list", "-q").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("%s list: %v: %s", rt, err, out)
		}
		ids = append(ids, strings.Fields(string(out))...)
	}
	return ids, nil
}

// hcPs is the host's process list, for failure messages.
func hcPs() string {
	out, _ := exec.Command("ps", "-eo", "pid,ppid,args").CombinedOutput()
	return string(out)
}

// cgroupDirs lists the cgroup directories that exist for container id.
func cgroupDirs(id string) []string {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "berth", id))
	return dirs
}

// hcContainer is what the daemon reports of one container.
type hcContainer struct {
	ID, Name, Status string
	Pid              int
}

// report asks the daemon for every container.
func (w *hcWorld) report() (map[string]hcContainer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := w.c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, err
	}
	out := map[string]hcContainer{}
	for _, s := range list.Items {
		res, err := w.c.ContainerInspect(ctx, s.ID, client.ContainerInspectOptions{})
		if err != nil {
			continue // removed meanwhile
		}
		st := res.Container.State
		out[s.ID] = hcContainer{ID: s.ID, Name: strings.TrimPrefix(res.Container.Name, "/"), Status: string(st.Status), Pid: st.Pid}
		w.ids[s.ID] = true
	}
	return out, nil
}

// problems compares the daemon's report with the host and lists every
// difference.
func (w *hcWorld) problems() []string {
	var p []string
	cs, err := w.report()
	if err != nil {
		return []string{"list containers: " + err.Error()}
	}
	running := map[string]bool{}
	for id, c := range cs {
		if c.Status == "running" || c.Status == "paused" {
			running[id] = true
		}
	}
	shims := w.shims()
	procs := w.markerProcs()
	procOf := map[string]int{}
	for pid, id := range procs {
		if id != "" {
			w.ids[id] = true
		}
		if !running[id] {
			p = append(p, fmt.Sprintf("container process %d (cgroup of %.12q) runs, but the daemon does not show its container running", pid, id))
		}
		procOf[id] = pid
	}
	for id, pid := range shims {
		w.ids[id] = true
		if !running[id] {
			p = append(p, fmt.Sprintf("shim %d of %.12s is alive, but the daemon shows the container %q", pid, id, cs[id].Status))
		}
	}
	for id := range running {
		c := cs[id]
		if _, ok := shims[id]; !ok {
			p = append(p, fmt.Sprintf("%.12s (%s) is reported running without a shim", id, c.Name))
		}
		if c.Pid <= 0 || syscall.Kill(c.Pid, 0) != nil {
			p = append(p, fmt.Sprintf("%.12s (%s) is reported running with pid %d, which does not exist", id, c.Name, c.Pid))
		} else if pid, ok := procOf[id]; ok && pid != c.Pid {
			p = append(p, fmt.Sprintf("%.12s (%s) is reported with pid %d, its process is %d", id, c.Name, c.Pid, pid))
		}
	}
	rt, err := w.runtimeState()
	if err != nil {
		p = append(p, err.Error())
	}
	for _, id := range rt {
		w.ids[id] = true
		if !running[id] {
			p = append(p, fmt.Sprintf("the runtime holds state for %.12s, which the daemon does not show running", id))
		}
	}
	dirs, _ := os.ReadDir(filepath.Join(w.d.ExecRoot, "containers"))
	for _, e := range dirs {
		w.ids[e.Name()] = true
		if !running[e.Name()] {
			p = append(p, fmt.Sprintf("shim directory of %.12s left behind (container %q)", e.Name(), cs[e.Name()].Status))
		}
	}
	for id := range w.ids {
		if running[id] {
			continue
		}
		if dirs := cgroupDirs(id); len(dirs) > 0 {
			p = append(p, fmt.Sprintf("cgroups of %.12s (not running) left: %v", id, dirs))
		}
	}
	if m := w.d.Mounts(); len(m) > 0 {
		p = append(p, "mounts on the host: "+strings.Join(m, "; "))
	}
	sort.Strings(p)
	return p
}

// consistent waits until what the daemon reports matches the host. A
// container whose stop was under way when the daemon died may still be
// ending: that settles, a leak never does.
func (w *hcWorld) consistent(t *testing.T, what string) {
	t.Helper()
	var last []string
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		last = w.problems()
		if len(last) == 0 {
			return poll.Success()
		}
		return poll.Continue("%s:\n%s", what, strings.Join(last, "\n"))
	}, poll.WithTimeout(30*time.Second), poll.WithDelay(100*time.Millisecond))
}

// status returns the status the daemon reports for a container.
func (w *hcWorld) status(t *testing.T, name string) (string, int) {
	t.Helper()
	res, err := w.c.ContainerInspect(context.Background(), name, client.ContainerInspectOptions{})
	assert.NilError(t, err)
	return string(res.Container.State.Status), res.Container.State.ExitCode
}

// removeAll removes every container and checks that nothing is left.
func (w *hcWorld) removeAll(t *testing.T) {
	t.Helper()
	cs, err := w.report()
	assert.NilError(t, err)
	for id := range cs {
		res := w.d.Berth(t, "rm", "-f", id)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
	}
	w.consistent(t, "after removing everything")
	cs, err = w.report()
	assert.NilError(t, err)
	assert.Equal(t, len(cs), 0, "containers left: %v", cs)
	assert.Equal(t, len(w.markerProcs()), 0)
	assert.Equal(t, len(w.shims()), 0)
	rt, err := w.runtimeState()
	assert.NilError(t, err)
	assert.Equal(t, len(rt), 0, "runtime state left: %v", rt)
	for id := range w.ids {
		assert.Equal(t, len(cgroupDirs(id)), 0, "cgroups of %s left", id)
	}
	// Nor a container directory: of a create or a removal that died.
	dirs, err := os.ReadDir(filepath.Join(w.d.DataRoot, "containers"))
	assert.NilError(t, err)
	assert.Equal(t, len(dirs), 0, "container directories left: %v", dirs)
}

func (w *hcWorld) runArgs(extra ...string) []string {
	args := append([]string{"--network", "none", "--read-only", "--tmpfs", "/run"}, extra...)
	return append(args, "busybox", "sleep", w.marker)
}

// TestHostileCrashStartWindow kills the daemon at the exact points of a
// start where the shim lives but the container's state on disk does not
// say so yet (the test-only hook BERTH_TEST_CRASH_POINT makes berthd kill
// itself there). The new daemon must neither lose the shim nor its
// container: a run never started is ended and the container keeps its
// state; a run started is adopted as running, with its pid, and can be
// stopped.
func TestHostileCrashStartWindow(t *testing.T) {
	cases := []struct {
		point      string
		startedYet bool   // the container ran and exited before the crashing start
		policy     string // its restart policy
		want       string // the status after the restart
	}{
		{point: "after-spawn", want: "created"},
		{point: "after-spawn", startedYet: true, want: "exited"},
		// The interrupted start may have been the policy's: it is tried
		// again.
		{point: "after-spawn", startedYet: true, policy: "always", want: "running"},
		{point: "after-start", want: "running"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s started-before=%v policy=%s", tc.point, tc.startedYet, tc.policy), func(t *testing.T) {
			t.Setenv("BERTH_TEST_CRASH_POINT", "")
			w := hcNew(t)
			create := []string{"create", "--name", "victim"}
			if tc.policy != "" {
				create = append(create, "--restart", tc.policy)
			}
			id := w.d.OK(t, append(create, w.runArgs()...)...)
			w.ids[id] = true
			exitBefore := 0
			if tc.startedYet {
				w.d.OK(t, "start", "victim")
				w.d.OK(t, "stop", "-t", "0", "victim")
				_, exitBefore = w.status(t, "victim")
			}
			// The daemon kills itself at the point.
			w.d.Stop(t)
			t.Setenv("BERTH_TEST_CRASH_POINT", tc.point)
			w.d.Start(t)
			res := w.d.Berth(t, "start", "victim")
			assert.Assert(t, res.ExitCode != 0, "the daemon did not crash at %s: %s", tc.point, res.Combined())
			w.d.Kill(t) // reaps it
			assert.Equal(t, len(w.shims()), 1, "the crash left no live shim: the window was not hit")
			// The runtime returns before its init has exec'd the command.
			poll.WaitOn(t, func(poll.LogT) poll.Result {
				if n := len(w.markerProcs()); n != 1 {
					return poll.Continue("%d container processes:\n%s", n, hcPs())
				}
				return poll.Success()
			}, poll.WithTimeout(10*time.Second), poll.WithDelay(20*time.Millisecond))

			t.Setenv("BERTH_TEST_CRASH_POINT", "")
			w.crashRestart(t)
			if tc.policy != "" {
				w.d.WaitState(t, "victim", tc.want)
			}
			w.consistent(t, "after the restart")
			status, code := w.status(t, "victim")
			assert.Equal(t, status, tc.want)
			if tc.want == "exited" {
				assert.Equal(t, code, exitBefore, "the interrupted start changed the recorded exit")
			}
			if tc.want == "running" {
				// Adopted: monitored, so a stop records the exit.
				w.d.OK(t, "stop", "-t", "0", "victim")
				status, _ = w.status(t, "victim")
				assert.Equal(t, status, "exited")
				w.consistent(t, "after stopping the adopted container")
			}
			// Whatever the state, the container can start again.
			w.d.OK(t, "start", "victim")
			w.consistent(t, "after a new start")
			status, _ = w.status(t, "victim")
			assert.Equal(t, status, "running")
			w.removeAll(t)
		})
	}
}

// TestHostileCrashRemoveWindow kills the daemon in the middle of a
// removal, after the container's directory was renamed away: the new
// daemon finishes the removal and keeps nothing of it.
func TestHostileCrashRemoveWindow(t *testing.T) {
	t.Setenv("BERTH_TEST_CRASH_POINT", "")
	w := hcNew(t)
	id := w.d.OK(t, append([]string{"run", "-d", "--name", "victim"}, w.runArgs()...)...)
	w.ids[id] = true
	w.d.OK(t, "run", "-d", "--name", "bystander", "--network", "none", "busybox", "sleep", w.marker)
	w.d.Stop(t)
	t.Setenv("BERTH_TEST_CRASH_POINT", "after-rename")
	w.d.Start(t)
	res := w.d.Berth(t, "rm", "-f", "victim")
	assert.Assert(t, res.ExitCode != 0, "the daemon did not crash in the removal: %s", res.Combined())
	t.Setenv("BERTH_TEST_CRASH_POINT", "")
	w.crashRestart(t)
	w.consistent(t, "after the restart")
	res = w.d.Berth(t, "inspect", "victim")
	assert.Assert(t, res.ExitCode != 0, "the removed container came back: %s", res.Stdout)
	status, _ := w.status(t, "bystander")
	assert.Equal(t, status, "running")
	entries, err := os.ReadDir(filepath.Join(w.d.DataRoot, "containers"))
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 1, "container directories: %v", entries)
	w.removeAll(t)
}

// TestHostileCrashBeforeAutoRemove kills the daemon when a --rm
// container's exit is handled and its removal has not begun. The daemon
// does not write the exit to the container's state first (the removal
// follows at once), so the new daemon must take the exit from the file
// the shim wrote, report it with the real exit code, and finish the
// removal.
func TestHostileCrashBeforeAutoRemove(t *testing.T) {
	t.Setenv("BERTH_TEST_CRASH_POINT", "")
	w := hcNew(t)
	w.d.Stop(t)
	t.Setenv("BERTH_TEST_CRASH_POINT", "before-autoremove")
	w.d.Start(t)
	start := time.Now()
	id := w.d.OK(t, "run", "-d", "--rm", "--name", "quick", "--network", "none", "--read-only", "busybox", "sh", "-c", "exit 3")
	w.ids[id] = true
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(w.d.Log(), "test crash point reached") {
			return poll.Success()
		}
		return poll.Continue("the daemon did not reach the crash point")
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(20*time.Millisecond))
	t.Setenv("BERTH_TEST_CRASH_POINT", "")
	w.crashRestart(t)
	w.consistent(t, "after the restart")
	res := w.d.Berth(t, "inspect", "quick")
	assert.Assert(t, res.ExitCode != 0, "the --rm container is still there: %s", res.Stdout)
	entries, err := os.ReadDir(filepath.Join(w.d.DataRoot, "containers"))
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 0, "container directories: %v", entries)
	code := w.d.OK(t, "events", "--since", fmt.Sprint(start.Unix()-1), "--until", fmt.Sprint(time.Now().Unix()+1),
		"--filter", "container="+id, "--filter", "event=die", "--format", "{{.Actor.Attributes.exitCode}}")
	assert.Equal(t, code, "3", "the restored daemon's die event")
}

// TestHostileCrashRandom runs, round after round, a random mix of run -d,
// create+start, stop, rm -f, exec and a kill that a restart policy answers,
// kills the daemon with SIGKILL at a random moment, restarts it and checks
// that its report matches the host. BERTH_TEST_CRASH_SEED replays a run
// (the seed is logged); BERTH_TEST_CRASH_ROUNDS changes the number of
// rounds (30).
func TestHostileCrashRandom(t *testing.T) {
	seed := time.Now().UnixNano()
	if s := os.Getenv("BERTH_TEST_CRASH_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		assert.NilError(t, err)
		seed = n
	}
	rounds := 30
	if s := os.Getenv("BERTH_TEST_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		assert.NilError(t, err)
		rounds = n
	}
	t.Logf("seed %d (replay with BERTH_TEST_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	w := hcNew(t)
	deadline := time.Now().Add(3 * time.Minute)
	done := 0
	for round := 0; round < rounds && time.Now().Before(deadline); round++ {
		cs, err := w.report()
		assert.NilError(t, err)
		var all, running []string
		for id, c := range cs {
			all = append(all, id)
			if c.Status == "running" {
				running = append(running, id)
			}
		}
		sort.Strings(all)
		sort.Strings(running)
		pick := func(from []string) string {
			if len(from) == 0 {
				return ""
			}
			return from[rng.Intn(len(from))]
		}
		// The plan of the round is drawn from the seed before anything
		// runs, so that a seed replays the same plan.
		var plan [][]string
		for i := 0; i < 4; i++ {
			switch op := rng.Intn(7); {
			case op <= 1:
				plan = append(plan, append([]string{"run", "-d"}, w.runArgs()...))
			case op == 2:
				plan = append(plan, append([]string{"create", "--name", fmt.Sprintf("c%d-%d", round, i)}, w.runArgs()...),
					[]string{"start", fmt.Sprintf("c%d-%d", round, i)})
			case op == 3:
				if id := pick(running); id != "" {
					plan = append(plan, []string{"stop", "-t", "1", id})
				}
			case op == 4 || len(all) > 8:
				if id := pick(all); id != "" {
					plan = append(plan, []string{"rm", "-f", id})
				}
			case op == 5:
				if id := pick(running); id != "" {
					plan = append(plan, []string{"exec", id, "true"})
				}
			default:
				name := fmt.Sprintf("p%d-%d", round, i)
				plan = append(plan, append([]string{"run", "-d", "--restart", "always", "--name", name}, w.runArgs()...),
					[]string{"kill", name})
			}
		}
		killAfter := time.Duration(rng.Intn(400)) * time.Millisecond
		t.Logf("round %d: kill after %v, plan %v", round, killAfter, plan)

		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, args := range plan {
				select {
				case <-stop:
					return
				default:
				}
				w.d.Berth(t, args...)
			}
		}()
		time.Sleep(killAfter)
		w.d.Kill(t)
		close(stop)
		wg.Wait()
		if err := os.Remove(w.d.Sock); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		w.d.Start(t)
		w.consistent(t, fmt.Sprintf("round %d", round))
		done++
	}
	log := w.d.Log()
	t.Logf("%d rounds; restores: %d runs never started ended, %d containers reattached, %d shims lost",
		done, strings.Count(log, "ending a run that was never started"), strings.Count(log, "container reattached"),
		strings.Count(log, "the shim of a container is gone"))
	assert.Assert(t, done >= 10, "only %d rounds within the time bound", done)
	w.removeAll(t)
}
