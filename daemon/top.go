package daemon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
)

// cgroupRoot is where the host mounts its cgroup hierarchies.
const cgroupRoot = "/sys/fs/cgroup"

// cgroupDir returns the directory of the container's cgroup in the first
// of the hierarchies (v1 controllers, or the unified one) that has it.
func cgroupDir(id string, hierarchies ...string) (string, error) {
	for _, h := range hierarchies {
		dir := filepath.Join(cgroupRoot, h, "berth", id)
		if _, err := os.Stat(dir); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no cgroup for container %s in %v: %w", id, hierarchies, errdefs.ErrNotFound)
}

// containerPids lists the processes of the container's cgroup.
func containerPids(id string) ([]int, error) {
	dir, err := cgroupDir(id, "pids", "memory", "cpu", "unified", "")
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// ContainerTop lists the container's processes as the host's ps shows them
// with psArgs (default "-ef"), as Docker does.
func (d *Daemon) ContainerTop(ctx context.Context, name, psArgs string) (*containertypes.TopResponse, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	c.Lock()
	running := c.State.IsRunning()
	restarting := c.State.Status == containertypes.StateRestarting
	c.Unlock()
	if restarting {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is restarting, wait until the container is running", c.ID))
	}
	if !running {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
	}
	if psArgs == "" {
		psArgs = "-ef"
	}
	if strings.ContainsAny(psArgs, "\x00\n") {
		return nil, errdefs.ErrInvalidArgument.WithMessage("ps_args contains invalid characters")
	}
	pids, err := containerPids(c.ID)
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "ps", strings.Fields(psArgs)...).Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("Error running ps: %s: %w", msg, errdefs.ErrUnknown)
	}
	return parsePS(string(out), pids)
}

// parsePS keeps the lines of ps output whose PID is one of pids. The last
// column (the command) may contain spaces.
func parsePS(out string, pids []int) (*containertypes.TopResponse, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return nil, fmt.Errorf("ps printed nothing: %w", errdefs.ErrUnknown)
	}
	titles := strings.Fields(lines[0])
	pidCol := slices.Index(titles, "PID")
	if pidCol < 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("Couldn't find PID field in ps output")
	}
	resp := &containertypes.TopResponse{Titles: titles, Processes: [][]string{}}
	for _, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) <= pidCol {
			continue
		}
		pid, err := strconv.Atoi(fields[pidCol])
		if err != nil || !slices.Contains(pids, pid) {
			continue
		}
		if len(fields) > len(titles) {
			// Re-split so that the command keeps its own spacing.
			fields = splitN(line, len(titles))
		}
		resp.Processes = append(resp.Processes, fields)
	}
	return resp, nil
}

// splitN splits s at runs of blanks into at most n fields.
func splitN(s string, n int) []string {
	var out []string
	s = strings.TrimLeft(s, " \t")
	for len(out) < n-1 {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			break
		}
		out = append(out, s[:i])
		s = strings.TrimLeft(s[i:], " \t")
	}
	return append(out, s)
}
