package daemon

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/api/types/backend"
)

// statsInterval is the time between two samples, as in Docker.
const statsInterval = time.Second

// ContainerStats samples the container's cgroup and hands each sample to
// emit: once (after a priming sample, so that CPU usage has a baseline)
// without opts.Stream, at once with opts.OneShot, or every second while
// streaming until ctx ends or the container stops.
func (d *Daemon) ContainerStats(ctx context.Context, name string, opts backend.StatsOptions, emit func(*containertypes.StatsResponse) error) error {
	c, err := d.containers.Get(name)
	if err != nil {
		return err
	}
	c.Lock()
	id, cname := c.ID, c.Name
	c.Unlock()
	sample := func() *containertypes.StatsResponse {
		s := &containertypes.StatsResponse{ID: id, Name: cname, OSType: "linux"}
		c.Lock()
		running := c.State.IsRunning()
		c.Unlock()
		if running {
			readCgroupStats(cgroupRoot, "/proc", id, s)
		}
		return s
	}
	var prev *containertypes.StatsResponse
	if !opts.OneShot {
		prev = sample()
		if !opts.Stream {
			select {
			case <-time.After(statsInterval):
			case <-ctx.Done():
				return nil
			}
		}
	}
	for {
		s := sample()
		if prev != nil {
			s.PreRead, s.PreCPUStats = prev.Read, prev.CPUStats
		}
		if err := emit(s); err != nil || !opts.Stream {
			return err
		}
		c.Lock()
		running := c.State.IsRunning()
		c.Unlock()
		if !running {
			return nil
		}
		prev = s
		select {
		case <-time.After(statsInterval):
		case <-ctx.Done():
			return nil
		}
	}
}

// clockTicks is USER_HZ, the unit of cpuacct.stat and /proc/stat.
const clockTicks = 100

// readCgroupStats fills s from the container's cgroup v1 controllers
// under root and the host's procfs; what cannot be read stays zero.
func readCgroupStats(root, proc, id string, s *containertypes.StatsResponse) {
	s.Read = time.Now().UTC()
	dir := func(ctrl string) string { return filepath.Join(root, ctrl, "berth", id) }

	cpu := &s.CPUStats
	cpu.CPUUsage.TotalUsage = readUint(filepath.Join(dir("cpuacct"), "cpuacct.usage"))
	for _, f := range strings.Fields(readString(filepath.Join(dir("cpuacct"), "cpuacct.usage_percpu"))) {
		v, _ := strconv.ParseUint(f, 10, 64)
		cpu.CPUUsage.PercpuUsage = append(cpu.CPUUsage.PercpuUsage, v)
	}
	st := readKeyValues(filepath.Join(dir("cpuacct"), "cpuacct.stat"))
	cpu.CPUUsage.UsageInUsermode = st["user"] * (uint64(time.Second) / clockTicks)
	cpu.CPUUsage.UsageInKernelmode = st["system"] * (uint64(time.Second) / clockTicks)
	th := readKeyValues(filepath.Join(dir("cpu"), "cpu.stat"))
	cpu.ThrottlingData = containertypes.ThrottlingData{Periods: th["nr_periods"], ThrottledPeriods: th["nr_throttled"], ThrottledTime: th["throttled_time"]}
	cpu.SystemUsage, cpu.OnlineCPUs = systemCPU(filepath.Join(proc, "stat"))

	mem := &s.MemoryStats
	mem.Usage = readUint(filepath.Join(dir("memory"), "memory.usage_in_bytes"))
	mem.MaxUsage = readUint(filepath.Join(dir("memory"), "memory.max_usage_in_bytes"))
	mem.Failcnt = readUint(filepath.Join(dir("memory"), "memory.failcnt"))
	mem.Limit = readUint(filepath.Join(dir("memory"), "memory.limit_in_bytes"))
	if total := hostMemTotal(filepath.Join(proc, "meminfo")); total > 0 && (mem.Limit == 0 || mem.Limit > total) {
		// No limit: the host's memory is the limit, as Docker shows it.
		mem.Limit = total
	}
	if m := readKeyValues(filepath.Join(dir("memory"), "memory.stat")); len(m) > 0 {
		mem.Stats = m
	}

	s.PidsStats.Current = readUint(filepath.Join(dir("pids"), "pids.current"))
	s.PidsStats.Limit = readUint(filepath.Join(dir("pids"), "pids.max")) // "max" reads as 0: no limit

	s.BlkioStats.IoServiceBytesRecursive = readBlkio(filepath.Join(dir("blkio"), "blkio.throttle.io_service_bytes_recursive"))
	s.BlkioStats.IoServicedRecursive = readBlkio(filepath.Join(dir("blkio"), "blkio.throttle.io_serviced_recursive"))
}

func readString(path string) string {
	data, _ := os.ReadFile(path)
	return strings.TrimSpace(string(data))
}

func readUint(path string) uint64 {
	v, _ := strconv.ParseUint(readString(path), 10, 64)
	return v
}

// readKeyValues reads "key value" lines.
func readKeyValues(path string) map[string]uint64 {
	m := map[string]uint64{}
	for _, line := range strings.Split(readString(path), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseUint(f[1], 10, 64); err == nil {
			m[f[0]] = v
		}
	}
	return m
}

// readBlkio reads "MAJ:MIN Op value" lines.
func readBlkio(path string) []containertypes.BlkioStatEntry {
	entries := []containertypes.BlkioStatEntry{}
	for _, line := range strings.Split(readString(path), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		majStr, minStr, ok := strings.Cut(f[0], ":")
		if !ok {
			continue
		}
		maj, err1 := strconv.ParseUint(majStr, 10, 64)
		min, err2 := strconv.ParseUint(minStr, 10, 64)
		v, err3 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		entries = append(entries, containertypes.BlkioStatEntry{Major: maj, Minor: min, Op: f[1], Value: v})
	}
	return entries
}

// systemCPU returns the host's total CPU time in nanoseconds and the number
// of CPUs, from /proc/stat.
func systemCPU(path string) (uint64, uint32) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	var total uint64
	var cpus uint32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch {
		case fields[0] == "cpu":
			for _, v := range fields[1:min(len(fields), 8)] {
				n, _ := strconv.ParseUint(v, 10, 64)
				total += n
			}
		case strings.HasPrefix(fields[0], "cpu"):
			cpus++
		}
	}
	return total * (uint64(time.Second) / clockTicks), cpus
}

// hostMemTotal returns MemTotal of /proc/meminfo in bytes.
func hostMemTotal(path string) uint64 {
	for _, line := range strings.Split(readString(path), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}
