package daemon

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/shim"
	"github.com/berth-project/berth/daemon/shimclient"
)

// restore loads every persisted container and reconciles it with what
// really runs. A daemon can die at any instruction, so the state on disk may
// lag behind: a start persists the running state only after the shim has
// started the container, a stop, a pause or a removal may be half done.
// restore therefore asks the shim processes of the exec root (found by
// their command lines, then asked on their sockets) and the runtime's
// state, and never deletes the state of a live shim. Per case:
//
//   - a shim whose container runs (the daemon asked for the start): it is
//     adopted. The container is running, with the shim's pid, and watched,
//     even if the daemon died before recording the start: the process runs
//     and a user must be able to see and stop it.
//   - a shim whose container was created but never started (the daemon died
//     inside a start): it is ended (killed, waited for, the runtime's state
//     deleted) and the container keeps the state it had before that start.
//     The start was never acknowledged, no attach session got its output,
//     and its client saw an error; a restart policy then tries again.
//   - a shim whose container has exited: its exit is recorded once the
//     shim has gone.
//   - a shim still setting up (no answer yet): restore waits for it, then
//     applies the above; one that never answers is killed.
//   - no shim: a container recorded as running gets the exit its shim
//     recorded, or is marked exited as lost; what the runtime still holds
//     of it (state, processes, cgroups) is deleted.
//   - a stop or kill that died with the daemon: the shim's state says
//     whether the container still runs (adopted) or ended (recorded).
//   - a removal that died with the daemon: the container's directory is
//     renamed away first, so restore finds it whole (it stays) or renamed
//     (deleted now). Shims, runtime state and exec-root leftovers of
//     containers the daemon does not know are ended and deleted.
//   - exec instances live in the daemon's memory only, as in Docker: an
//     exec's process runs on in its container and ends with it.
func (d *Daemon) restore() error {
	entries, err := os.ReadDir(d.containersDir())
	if err != nil {
		return err
	}
	shims := shimclient.Running(d.shimsDir())
	var autoRemove []*container.Container
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), removingPrefix) {
			// A removal was interrupted after the container was
			// renamed away: finish it.
			if err := os.RemoveAll(filepath.Join(d.containersDir(), e.Name())); err != nil {
				d.log.Warn("finish an interrupted removal", "dir", e.Name(), "err", err)
			}
			continue
		}
		c, err := container.FromDisk(filepath.Join(d.containersDir(), e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			// A create that died with the daemon: the model is the
			// last thing it writes (atomically), so nothing refers to
			// the directory.
			d.log.Warn("delete the directory of an unfinished create", "dir", e.Name())
			if err := os.RemoveAll(filepath.Join(d.containersDir(), e.Name())); err != nil {
				d.log.Warn("delete the directory of an unfinished create", "dir", e.Name(), "err", err)
			}
			continue
		}
		if err != nil {
			d.log.Warn("skip unreadable container", "dir", e.Name(), "err", err)
			continue
		}
		if c.State.Status == containertypes.StateRemoving {
			// A removal was interrupted: finish it.
			d.endUnknownRun(c.ID, shims[c.ID])
			os.RemoveAll(c.Root)
			continue
		}
		d.containers.Add(c)
		d.reconcile(c, d.liveOf(c.ID), shims[c.ID])
		if !c.State.IsRunning() && c.State.Status != containertypes.StateRestarting {
			// A run that ended while no daemon watched left its
			// interfaces, address leases and port rules.
			d.networkDown(c)
		}
		if removeAtRestore(c) {
			autoRemove = append(autoRemove, c)
		}
	}
	d.removeStaleNetNS()
	d.reconcileVolumes()
	d.reconcileMountpoints()
	for _, c := range autoRemove {
		if err := d.remove(context.Background(), c, false, true); err != nil && !errors.Is(err, errNotFound) {
			d.log.Warn("auto-remove at restore", "container", c.ID, "err", err)
		}
	}
	// Leftovers of runs whose containers are gone: live shims, the
	// runtime's state, state directories and sockets.
	unknown := map[string]bool{}
	for id := range shims {
		unknown[id] = true
	}
	dirs, _ := os.ReadDir(d.shimsDir())
	for _, s := range dirs {
		unknown[s.Name()] = true
	}
	rts, _ := os.ReadDir(d.runtimeRoot())
	for _, rt := range rts {
		states, _ := os.ReadDir(filepath.Join(d.runtimeRoot(), rt.Name()))
		for _, s := range states {
			if s.IsDir() {
				unknown[s.Name()] = true
			}
		}
	}
	for id := range unknown {
		if _, err := d.containers.Get(id); err == nil {
			continue
		}
		d.log.Warn("ending the leftovers of an unknown container", "container", id)
		d.endUnknownRun(id, shims[id])
	}
	sockets, _ := os.ReadDir(filepath.Join(d.cfg.ExecRoot, "s"))
	for _, s := range sockets {
		id, _, _ := strings.Cut(s.Name(), ".")
		if _, err := d.containers.Get(id); err != nil {
			os.Remove(filepath.Join(d.cfg.ExecRoot, "s", s.Name()))
		}
	}
	return nil
}

// restoreAction is what restore does with one container.
type restoreAction int

const (
	// restoreClean: no shim and nothing runs: delete what the runtime
	// may still hold of an old run.
	restoreClean restoreAction = iota
	// restoreLost: recorded running, no shim: record the exit the shim
	// left, or the loss.
	restoreLost
	// restoreAdopt: the shim's container runs: watch it again.
	restoreAdopt
	// restoreFinished: the run ended while no daemon watched.
	restoreFinished
	// restoreEndNeverStarted: the shim's container was created, never
	// started: end it, the container keeps its state.
	restoreEndNeverStarted
	// restoreEndAndRecord: a shim that was never started for a container
	// recorded running (no start leaves that): end it and record the exit.
	restoreEndAndRecord
)

// removeAtRestore says whether restore removes c, once reconciled with
// what runs: a --rm container that is not running, as Docker does at
// start (with live restore, which is how Berth always works: a running
// one is kept, and removed when it ends). That is a created one never
// started, and one whose removal a daemon did not get to.
func removeAtRestore(c *container.Container) bool {
	if c.HostConfig == nil || !c.HostConfig.AutoRemove {
		return false
	}
	switch c.State.Status {
	case containertypes.StateCreated, containertypes.StateExited, containertypes.StateDead:
		return true
	}
	return false
}

// shimUnknown stands for a shim that is alive but does not say its status.
const shimUnknown shim.Status = "unknown"

// decideRestore chooses, from the recorded status of a container and the
// status its live shim reports ("" when no shim answers), what restore does;
// see restore for why.
func decideRestore(recorded containertypes.ContainerState, shimStatus shim.Status) restoreAction {
	recordedRunning := recorded == containertypes.StateRunning || recorded == containertypes.StatePaused ||
		recorded == containertypes.StateRestarting
	switch shimStatus {
	case "":
		if recordedRunning {
			return restoreLost
		}
		return restoreClean
	case shim.StatusRunning, shim.StatusPaused:
		return restoreAdopt
	case shim.StatusStopped:
		return restoreFinished
	}
	if recordedRunning {
		return restoreEndAndRecord
	}
	return restoreEndNeverStarted
}

// reconcile brings c, just read from disk, in line with its shim, if one
// of its processes (pids) lives.
func (d *Daemon) reconcile(c *container.Container, l *live, pids []int) {
	var sh *shimclient.Client
	var st shim.State
	if len(pids) > 0 {
		sh = d.awaitShim(c.ID, pids)
	}
	if sh != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var err error
		st, err = sh.State(ctx)
		cancel()
		if err != nil || st.Status == "" {
			st.Status = shimUnknown
		}
	}
	switch decideRestore(c.State.Status, st.Status) {
	case restoreClean:
		d.deleteOrphanedRun(c.ID)
		d.cleanupShimDir(c.ID)
		os.Remove(c.ExitPath())
	case restoreLost:
		if c.State.Status == containertypes.StateRestarting {
			// It was waiting for its restart policy's back-off, with no
			// process: the wait goes on.
			d.deleteOrphanedRun(c.ID)
			d.cleanupShimDir(c.ID)
			os.Remove(c.ExitPath())
			d.scheduleRestart(c, l)
			return
		}
		d.handleExit(c, l, d.exitAfterShimLoss(c), nil)
	case restoreAdopt:
		d.adopt(c, l, sh, st)
	case restoreFinished:
		// The shim goes once it has deleted the runtime's state.
		waitPidsGone(pids, 10*time.Second)
		d.endedWithoutDaemon(c, l, st.Exit)
	case restoreEndAndRecord:
		d.endedWithoutDaemon(c, l, d.endShim(c.ID, sh, pids))
	case restoreEndNeverStarted:
		d.endNeverStarted(c, l, sh, pids)
		if c.State.Status == containertypes.StateExited && c.HasBeenStarted &&
			shouldRestart(c.HostConfig.RestartPolicy, c.State.ExitCode, c.RestartCount, false) {
			// The start that died with the daemon may have been one
			// the restart policy asked for: try it again.
			_ = c.State.Transition(containertypes.StateRestarting)
			d.scheduleRestart(c, l)
		}
	}
}

// endNeverStarted ends the run of a shim whose container was created but
// never started, and leaves the container in the state it had. The
// container's processes are killed now; the shim takes a few seconds more
// to go (it waits for the output it held back), so it becomes the
// container's previous shim, which a new start or a removal waits for,
// and its directory and what the runtime holds are deleted once it is
// gone. The caller does not hold c's lock.
func (d *Daemon) endNeverStarted(c *container.Container, l *live, sh *shimclient.Client, pids []int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := sh.Kill(ctx, "KILL", true)
	cancel()
	if err != nil {
		d.log.Warn("kill the container of a shim found at restore", "container", c.ID, "err", err)
	}
	d.log.Info("ending a run that was never started", "container", c.ID)
	l.prev = sh
	go func() {
		if !waitPidsGone(pids, 30*time.Second) {
			d.log.Error("a shim found at restore does not end: killed", "container", c.ID, "pids", pids)
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			waitPidsGone(pids, 10*time.Second)
		}
		c.Lock()
		defer c.Unlock()
		if l.prev != sh {
			return // a new run waited for it and took over
		}
		l.prev = nil
		d.deleteOrphanedRun(c.ID)
		d.cleanupShimDir(c.ID)
		os.Remove(c.ExitPath())
	}()
}

// adopt makes c's live shim, found at restore, the container's shim again.
// The caller does not hold c's lock (nobody else knows c yet).
func (d *Daemon) adopt(c *container.Container, l *live, sh *shimclient.Client, st shim.State) {
	if !c.State.IsRunning() {
		// The daemon died between the start and recording it.
		if c.State.Status == containertypes.StateRestarting {
			c.State.Reconcile(containertypes.StateExited)
		}
		if err := c.State.SetRunning(st.Pid, time.Now().UTC()); err != nil {
			d.log.Error("record the running state of an adopted container", "container", c.ID, "err", err)
		}
		c.HasBeenStarted = true
	}
	c.State.Pid = st.Pid
	// A pause or resume whose state the daemon did not record.
	if st.Status == shim.StatusPaused && c.State.Status == containertypes.StateRunning {
		_ = c.State.Transition(containertypes.StatePaused)
	}
	if st.Status == shim.StatusRunning && c.State.Status == containertypes.StatePaused {
		_ = c.State.Transition(containertypes.StateRunning)
	}
	if err := c.ToDisk(); err != nil {
		d.log.Error("persist an adopted container", "container", c.ID, "err", err)
	}
	l.shim = sh
	l.exited = make(chan struct{})
	d.startHealth(c, l, false)
	d.replayEndpoints(c)
	d.monitor(c, l, sh.SendWait(d.ctx), l.exited)
	d.log.Info("container reattached", "container", c.ID, "pid", st.Pid)
}

// endedWithoutDaemon records the end of a run that ended while no daemon
// watched it, once its shim is gone: a container recorded as running gets
// the exit; one whose start never completed keeps the state it had. The
// caller does not hold c's lock.
func (d *Daemon) endedWithoutDaemon(c *container.Container, l *live, exit *shim.Exit) {
	d.deleteOrphanedRun(c.ID)
	if c.State.IsRunning() || c.State.Status == containertypes.StateRestarting {
		if c.State.Status == containertypes.StateRestarting {
			c.State.Reconcile(containertypes.StateRunning)
		}
		if exit == nil {
			exit = d.exitAfterShimLoss(c)
		}
		d.handleExit(c, l, exit, nil)
		return
	}
	d.cleanupShimDir(c.ID)
	os.Remove(c.ExitPath())
}

// awaitShim connects to the shim of container id whose processes are
// pids. A shim the daemon spawned just before it died may still be setting
// up the container (mounts, copy-up, the runtime's create) and answers
// only after that: wait for it while it lives. One that does not answer
// within a minute is killed. It returns nil when no shim answers.
func (d *Daemon) awaitShim(id string, pids []int) *shimclient.Client {
	deadline := time.Now().Add(time.Minute)
	for {
		sh, err := shimclient.Connect(d.shimDir(id), d.shimSocket(id))
		if err == nil {
			return sh
		}
		if !pidsAlive(pids) {
			return nil
		}
		if time.Now().After(deadline) {
			d.log.Error("a shim that does not answer is killed", "container", id, "pids", pids, "err", err)
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			waitPidsGone(pids, 10*time.Second)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// endShim ends the run a live shim supervises: it kills every process of
// the container, waits for the exit and for the shim to go (it deletes the
// runtime's state last). It returns the exit, or nil if the shim did not
// report one.
func (d *Daemon) endShim(id string, sh *shimclient.Client, pids []int) *shim.Exit {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sh.Kill(ctx, "KILL", true); err != nil {
		d.log.Warn("kill the container of a shim found at restore", "container", id, "err", err)
	}
	exit, err := sh.Wait(ctx)
	if err != nil {
		d.log.Warn("wait for the container of a shim found at restore", "container", id, "err", err)
		exit = nil
	}
	if !waitPidsGone(pids, 10*time.Second) {
		d.log.Error("a shim found at restore does not end: killed", "container", id, "pids", pids)
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		waitPidsGone(pids, 10*time.Second)
	}
	d.log.Info("ended a run that was never started", "container", id)
	return exit
}

// endUnknownRun ends and deletes whatever a run of container id left,
// its shim (pids) included, for a container that is gone or going.
func (d *Daemon) endUnknownRun(id string, pids []int) {
	if len(pids) > 0 {
		if sh := d.awaitShim(id, pids); sh != nil {
			d.endShim(id, sh, pids)
		}
	}
	d.deleteOrphanedRun(id)
	d.cleanupShimDir(id)
}

// pidsAlive reports whether one of pids still runs (a zombie does not).
func pidsAlive(pids []int) bool {
	for _, pid := range pids {
		if syscall.Kill(pid, 0) != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			continue
		}
		// The state follows the command name, which ends with the last ')'.
		if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		return true
	}
	return false
}

// waitPidsGone waits, at most timeout, until none of pids exists; it
// reports whether they are gone. The shims were the previous daemon's
// children: their parent now is init, which reaps them.
func waitPidsGone(pids []int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for pidsAlive(pids) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
