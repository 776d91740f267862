package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/api/types/berth"
	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/runspec"
)

// ContainerTmpfsUsage reports every tmpfs mount of a running (or paused)
// container with its size and the bytes in use. The tmpfs mounts live in
// the shim's private mount namespace, at the staging directories
// runspec.TmpfsStaging names; they are measured with statfs through /proc/<shim pid>/root,
// which resolves paths in that namespace.
func (d *Daemon) ContainerTmpfsUsage(ctx context.Context, name string) ([]berth.TmpfsUsage, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	c.Lock()
	defer c.Unlock()
	switch c.State.Status {
	case containertypes.StateRunning, containertypes.StatePaused:
	default:
		return nil, fmt.Errorf("container %s is not running: %w", c.ID, errConflict)
	}
	shimRoot, err := d.shimRootDir(c.ID)
	if err != nil {
		return nil, err
	}
	out := []berth.TmpfsUsage{}
	for i, m := range c.Mounts {
		if m.Type != container.MountTmpfs || m.Tmpfs == nil {
			continue
		}
		u := berth.TmpfsUsage{
			Destination: m.Destination,
			Mode:        fmt.Sprintf("%04o", m.Tmpfs.Mode),
			UID:         m.Tmpfs.UID,
			GID:         m.Tmpfs.GID,
			CopyUp:      m.Tmpfs.CopyUp,
			Options:     m.Tmpfs.Options,
		}
		staging := runspec.TmpfsStaging(d.shimDir(c.ID), i)
		size, used, err := statfsUsage(filepath.Join(shimRoot, staging))
		if err != nil {
			return nil, fmt.Errorf("tmpfs %s of container %s: %w", m.Destination, c.ID, err)
		}
		u.SizeBytes, u.UsedBytes = size, used
		out = append(out, u)
	}
	return out, nil
}

// shimRootDir returns /proc/<pid>/root of the container's shim, after
// checking that the pid still is that shim.
func (d *Daemon) shimRootDir(id string) (string, error) {
	dir := d.shimDir(id)
	raw, err := os.ReadFile(filepath.Join(dir, "shim.pid"))
	if err != nil {
		return "", fmt.Errorf("container %s has no shim: %w", id, errConflict)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return "", fmt.Errorf("container %s: bad shim pid file: %q", id, raw)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), dir) {
		return "", fmt.Errorf("container %s: its shim (pid %d) is gone: %w", id, pid, errConflict)
	}
	return fmt.Sprintf("/proc/%d/root", pid), nil
}

// statfsUsage returns the total and used bytes of the file system at path.
func statfsUsage(path string) (size, used int64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs: %w", err)
	}
	if st.Type != unix.TMPFS_MAGIC {
		return 0, 0, fmt.Errorf("statfs %s: not a tmpfs (type %#x)", path, st.Type)
	}
	bsize := int64(st.Bsize)
	return int64(st.Blocks) * bsize, int64(st.Blocks-st.Bfree) * bsize, nil
}
