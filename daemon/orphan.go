package daemon

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// deleteOrphanedRun ends what is left of a run of container id whose shim
// is gone (killed, crashed, or ended by restore): the runtime's state, whose
// forced delete ends the container's processes, and the container's
// cgroups, with any process still in them. Without it the processes would
// live on, unsupervised and invisible to the daemon, the runtime would
// keep its state and refuse the ID, and the cgroups would stay. It is
// harmless when nothing is left. The caller makes sure no live shim
// supervises the container.
func (d *Daemon) deleteOrphanedRun(id string) {
	rts, _ := os.ReadDir(d.runtimeRoot())
	for _, e := range rts {
		root := filepath.Join(d.runtimeRoot(), e.Name())
		if _, err := os.Stat(filepath.Join(root, id)); err != nil {
			continue
		}
		rt, err := d.runtimePath(e.Name())
		if err != nil {
			d.log.Warn("runtime state of an unknown runtime", "container", id, "runtime", e.Name(), "err", err)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, rt, "--root", root, "delete", "--force", id).CombinedOutput()
		cancel()
		if err != nil {
			d.log.Warn("runtime delete of a container whose shim is gone", "container", id, "err", err, "output", string(out))
			continue
		}
		d.log.Info("the shim of a container is gone: its processes were ended", "container", id)
	}
	d.removeCgroups(id)
}

// containerCgroups lists the cgroup directories of container id, in every
// hierarchy (cgroup v1 controllers, the hybrid unified tree, or a pure
// cgroup v2 host). Every run uses the cgroup path /berth/ID (see the spec's
// CgroupsPath).
func containerCgroups(id string) []string {
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", "berth", id))
	if _, err := os.Stat(filepath.Join(cgroupRoot, "berth", id)); err == nil {
		dirs = append(dirs, filepath.Join(cgroupRoot, "berth", id))
	}
	return dirs
}

// removeCgroups kills what still runs in the cgroups of container id and
// removes them, children first.
func (d *Daemon) removeCgroups(id string) {
	tops := containerCgroups(id)
	if len(tops) == 0 {
		return
	}
	var dirs []string
	for _, top := range tops {
		_ = filepath.WalkDir(top, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	killed := false
	for _, dir := range dirs {
		// A frozen process cannot die: thaw first (a paused container
		// whose shim went).
		if _, err := os.Stat(filepath.Join(dir, "freezer.state")); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
		}
		if _, err := os.Stat(filepath.Join(dir, "cgroup.freeze")); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
		}
		for _, pid := range cgroupProcs(dir) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed = true
			}
		}
	}
	if killed {
		d.log.Warn("killed the processes left in the cgroups of a container without a shim", "container", id)
	}
	deadline := time.Now().Add(5 * time.Second)
	for i := len(dirs) - 1; i >= 0; i-- {
		for {
			err := syscall.Rmdir(dirs[i])
			if err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
				d.log.Warn("remove a container's cgroup", "container", id, "cgroup", dirs[i], "err", err)
				break
			}
			// The killed processes are still dying.
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func cgroupProcs(dir string) []int {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
