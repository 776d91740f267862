// Package cgroupwarm takes the kernel's cgroup attach lock ahead of a
// container runtime, so that the runtime does not wait for it.
package cgroupwarm

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/pkg/runtrace"
)

// Warm writes the calling process's pid into the cgroup it is already
// in, which moves nothing. Any move of a process between cgroups takes one
// lock shared by the whole system (cgroup_threadgroup_rwsem), and the
// first taker after a quiet moment waits for an RCU grace period (about
// 10 ms on the test VMs): on a single `run`, that is the runtime when it
// puts the container's process into its cgroup. Called in the background
// before the runtime starts (by the daemon as a start begins, and by the
// shim as it starts), the wait overlaps Berth's own work and the runtime
// finds the lock ready (bare `crun run` after a pause: 25.7 ms, 13.7 ms
// with such a move alongside). Best effort: a failure costs only the time
// it would have saved. who names the caller in the BERTH_TRACE mark.
func Warm(who string) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	for _, p := range cgroupProcsFiles(string(data), "/sys/fs/cgroup") {
		if writeCgroupFile(p, pid) == nil {
			runtrace.Mark(who, "cgroup-lock-warm")
			return
		}
	}
}

// writeCgroupFile writes data to an existing file of a cgroup filesystem:
// never a new file (O_CREAT), nor a file of another filesystem (the tmpfs
// that holds the v1 hierarchies' mount points on hybrid hosts).
func writeCgroupFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return err
	}
	if st.Type != unix.CGROUP_SUPER_MAGIC && st.Type != unix.CGROUP2_SUPER_MAGIC {
		return fmt.Errorf("%s is not on a cgroup filesystem", path)
	}
	_, err = f.Write(data)
	return err
}

// cgroupProcsFiles lists the cgroup.procs files of the cgroups that
// /proc/self/cgroup (content) names, under the cgroup mount root: the
// unified hierarchy first (at root, or at root/unified on hybrid hosts),
// then each v1 hierarchy, named by its controllers.
func cgroupProcsFiles(content, root string) []string {
	var v2, v1 []string
	for _, line := range strings.Split(strings.TrimSpace(content), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		ctrl, path := parts[1], parts[2]
		if parts[0] == "0" && ctrl == "" {
			v2 = append(v2, filepath.Join(root, path, "cgroup.procs"), filepath.Join(root, "unified", path, "cgroup.procs"))
			continue
		}
		if ctrl == "" {
			continue
		}
		v1 = append(v1, filepath.Join(root, strings.TrimPrefix(ctrl, "name="), path, "cgroup.procs"))
	}
	return append(v2, v1...)
}
