package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestHostileLeakCheck drives one daemon through a mix of work, good and
// bad (read-only runs with tmpfs copy-up, cp in both directions, exec,
// a bridge network, refused creates, a refused image, killed containers)
// and then checks that nothing is left: no container, shim, mount,
// network namespace, cgroup or file of a run, and the daemon holds no
// more file descriptors than after its start.
func TestHostileLeakCheck(t *testing.T) {
	d := harness.NewWithImage(t)
	fdsAtStart := openFDs(t, d.Pid())

	for i := 0; i < 3; i++ {
		d.OK(t, "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp:size=1m",
			"busybox", "sh", "-c", "echo x > /run/f && cat /run/app/config")
	}
	id := d.OK(t, "run", "-d", "--read-only", "--tmpfs", "/run", "busybox", "sleep", "1000")
	src := filepath.Join(t.TempDir(), "in.txt")
	assert.NilError(t, os.WriteFile(src, []byte("in"), 0o644))
	d.OK(t, "cp", src, id+":/run/")
	d.OK(t, "cp", id+":/run/in.txt", filepath.Join(t.TempDir(), "out.txt"))
	assert.Equal(t, d.OK(t, "exec", id, "cat", "/run/in.txt"), "in")
	d.OK(t, "network", "create", "--subnet", d.Subnet(0), "leaknet")
	d.OK(t, "run", "--rm", "--network", "leaknet", "busybox", "true")
	d.Fails(t, 125, []string{"invalid tmpfs option"}, "run", "--rm", "--tmpfs", "/x:bogus", "busybox", "true")
	d.Fails(t, 125, []string{"unknown capability"}, "run", "--rm", "--cap-add", "NOPE", "busybox", "true")
	d.Fails(t, 125, []string{"unknown option \"nope\""}, "run", "--rm", "--security-opt", "nope=1", "busybox", "true")
	d.OK(t, "kill", id)
	d.OK(t, "rm", "-f", id)
	d.OK(t, "network", "rm", "leaknet")

	assert.Check(t, is.Equal(d.OK(t, "ps", "-aq"), ""))
	harness.Poll(t, func() (bool, string) {
		shims := d.Shims()
		return len(shims) == 0, "shims left: " + strings.Join(shims, ", ")
	})
	assert.Check(t, is.Len(d.Mounts(), 0), "mounts left: %v", d.Mounts())
	for _, dir := range []string{
		filepath.Join(d.DataRoot, "containers"),
		filepath.Join(d.ExecRoot, "containers"),
		filepath.Join(d.ExecRoot, "netns"),
	} {
		assert.Check(t, is.Len(dirNames(t, dir), 0), "%s is not empty", dir)
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/berth/" + id)
	assert.Check(t, is.Len(cgroups, 0), "cgroups left: %v", cgroups)
	// Idle keep-alive connections of the CLI's client close on their own.
	harness.Poll(t, func() (bool, string) {
		n := openFDs(t, d.Pid())
		return n <= fdsAtStart, "the daemon holds more descriptors than at its start: " + fmt.Sprintf("%d > %d", n, fdsAtStart)
	})
}

// openFDs counts the open file descriptors of a process.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	assert.NilError(t, err)
	return len(entries)
}

// dirNames lists a directory ("" entries when it does not exist).
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	assert.NilError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestInheritedDescriptorsStayInDaemon starts berthd with a file its
// parent left open and inheritable: neither the shims nor the containers'
// processes may get it (on either runtime).
func TestInheritedDescriptorsStayInDaemon(t *testing.T) {
	marker, err := os.Create(filepath.Join(t.TempDir(), "inherited-marker"))
	assert.NilError(t, err)
	defer marker.Close()
	d := harness.NewWithImage(t, harness.WithInheritedFile(23, marker))
	assert.Check(t, holds(t, d.Pid(), marker.Name()), "the test's berthd did not inherit the marker")
	for _, rt := range []string{"runc", "crun"} {
		name := "fd-" + rt
		d.OK(t, "run", "-d", "--name", name, "--runtime", rt, "--network", "none", "--read-only", "--tmpfs", "/run", "busybox", "sleep", "300")
		pid, err := strconv.Atoi(d.Inspect(t, name, "{{.State.Pid}}"))
		assert.NilError(t, err)
		shims := d.Shims()
		assert.Assert(t, len(shims) > 0, "no shim found")
		for _, s := range shims {
			spid, err := strconv.Atoi(s)
			assert.NilError(t, err)
			assert.Check(t, !holds(t, spid, marker.Name()), "shim %d holds the daemon's inherited descriptor", spid)
		}
		assert.Check(t, !holds(t, pid, marker.Name()), "the %s container's process holds the daemon's inherited descriptor", rt)
		d.OK(t, "rm", "-f", name)
	}
}

// holds reports whether process pid has path open.
func holds(t *testing.T, pid int, path string) bool {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}

// TestHostileNoZombies: the shim of a running container has no zombie
// children after the start and after execs, on both runtimes. The shim is
// a subreaper, so orphans become its children: crun's run and exec
// --detach leave an intermediate process that exits a moment after crun,
// which stayed a zombie for the container's life.
func TestHostileNoZombies(t *testing.T) {
	d := harness.NewWithImage(t)
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		id := d.OK(t, "run", "-d", "--runtime", rt, "--network", "none", "busybox", "sleep", "600")
		defer d.OK(t, "rm", "-f", id)
		d.OK(t, "exec", "-d", id, "sleep", "600")
		d.OK(t, "exec", id, "true")
		shims, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		shim := ""
		for _, f := range shims {
			raw, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
			if len(args) == 3 && args[1] == "shim" && filepath.Base(args[2]) == id {
				shim = filepath.Base(filepath.Dir(f))
			}
		}
		assert.Assert(t, shim != "", "no shim process for %s", id)
		harness.Poll(t, func() (bool, string) {
			var zombies []string
			files, _ := filepath.Glob("/proc/" + shim + "/task/*/children")
			for _, f := range files {
				data, _ := os.ReadFile(f)
				for _, pid := range strings.Fields(string(data)) {
					stat, err := os.ReadFile("/proc/" + pid + "/stat")
					if err != nil {
						continue
					}
					s := string(stat)
					if i := strings.LastIndexByte(s, ')'); i > 0 && i+2 < len(s) && s[i+2] == 'Z' {
						zombies = append(zombies, s[:i+1])
					}
				}
			}
			return len(zombies) == 0, fmt.Sprintf("zombie children of the shim: %v", zombies)
		})
	})
}
