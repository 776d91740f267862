// Package resources decides the resource limits of containers: what the
// host's cgroups can limit (Host, probed once at daemon start), whether a
// request's limits are valid on this host (Validate, with Docker's
// messages) and how an update changes them (Merge).
//
// Everything but Probe is pure.
package resources

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/docker/go-units"
	"golang.org/x/sys/unix"
)

// Host is what the host's cgroups and the daemon's own limits allow, as
// dockerd's sysinfo reports it.
type Host struct {
	CgroupV2 bool

	MemoryLimit       bool
	SwapLimit         bool
	MemoryReservation bool
	OomKillDisable    bool
	MemorySwappiness  bool

	CPUShares   bool
	CPUCfs      bool // cpu.cfs_period_us and cpu.cfs_quota_us
	CPURealtime bool
	Cpuset      bool
	Cpus, Mems  string // the CPUs and memory nodes of the root cpuset, e.g. "0-1"
	NCPU        int

	PidsLimit bool

	BlkioWeight        bool
	BlkioWeightDevice  bool
	BlkioReadBpsDevice bool
	BlkioWriteBpsDev   bool
	BlkioReadIOpsDev   bool
	BlkioWriteIOpsDev  bool

	// HardLimits are the daemon's own hard rlimits by ulimit name
	// ("nofile", ...): a runtime cannot raise a container's above them
	// (root may lack CAP_SYS_RESOURCE).
	HardLimits map[string]uint64
}

// UlimitNames are the names --ulimit accepts (github.com/docker/go-units).
var UlimitNames = []string{"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

// Probe reads the host's capabilities under root (normally /sys/fs/cgroup)
// and the daemon's hard rlimits.
func Probe(root string) Host {
	h := Host{NCPU: runtime.NumCPU(), HardLimits: map[string]uint64{}}
	exists := func(parts ...string) bool {
		_, err := os.Stat(filepath.Join(append([]string{root}, parts...)...))
		return err == nil
	}
	read := func(parts ...string) string {
		b, _ := os.ReadFile(filepath.Join(append([]string{root}, parts...)...))
		return strings.TrimSpace(string(b))
	}
	var st unix.Statfs_t
	if unix.Statfs(root, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		h.CgroupV2 = true
		ctrl := strings.Fields(read("cgroup.subtree_control"))
		has := func(c string) bool {
			for _, x := range ctrl {
				if x == c {
					return true
				}
			}
			return false
		}
		h.MemoryLimit = has("memory")
		h.SwapLimit = h.MemoryLimit && exists("init.scope", "memory.swap.max") || h.MemoryLimit && exists("system.slice", "memory.swap.max")
		h.MemoryReservation = h.MemoryLimit
		h.CPUShares, h.CPUCfs = has("cpu"), has("cpu")
		h.Cpuset = has("cpuset")
		h.PidsLimit = has("pids")
		io := has("io")
		h.BlkioWeight, h.BlkioWeightDevice = io && exists("system.slice", "io.weight"), io && exists("system.slice", "io.weight")
		h.BlkioReadBpsDevice, h.BlkioWriteBpsDev, h.BlkioReadIOpsDev, h.BlkioWriteIOpsDev = io, io, io, io
		h.Cpus, h.Mems = read("cpuset.cpus.effective"), read("cpuset.mems.effective")
	} else {
		h.MemoryLimit = exists("memory", "memory.limit_in_bytes")
		h.SwapLimit = exists("memory", "memory.memsw.limit_in_bytes")
		h.MemoryReservation = exists("memory", "memory.soft_limit_in_bytes")
		h.OomKillDisable = exists("memory", "memory.oom_control")
		h.MemorySwappiness = exists("memory", "memory.swappiness")
		h.CPUShares = exists("cpu", "cpu.shares")
		h.CPUCfs = exists("cpu", "cpu.cfs_period_us") && exists("cpu", "cpu.cfs_quota_us")
		h.CPURealtime = exists("cpu", "cpu.rt_period_us") && exists("cpu", "cpu.rt_runtime_us")
		h.Cpuset = exists("cpuset", "cpuset.cpus")
		h.Cpus, h.Mems = read("cpuset", "cpuset.cpus"), read("cpuset", "cpuset.mems")
		h.PidsLimit = exists("pids")
		h.BlkioWeight = exists("blkio", "blkio.weight") || exists("blkio", "blkio.bfq.weight")
		h.BlkioWeightDevice = exists("blkio", "blkio.weight_device") || exists("blkio", "blkio.bfq.weight_device")
		h.BlkioReadBpsDevice = exists("blkio", "blkio.throttle.read_bps_device")
		h.BlkioWriteBpsDev = exists("blkio", "blkio.throttle.write_bps_device")
		h.BlkioReadIOpsDev = exists("blkio", "blkio.throttle.read_iops_device")
		h.BlkioWriteIOpsDev = exists("blkio", "blkio.throttle.write_iops_device")
	}
	for _, name := range UlimitNames {
		u := units.Ulimit{Name: name}
		rl, err := u.GetRlimit()
		if err != nil {
			continue
		}
		var lim unix.Rlimit
		if unix.Getrlimit(rl.Type, &lim) == nil {
			h.HardLimits[name] = lim.Max
		}
	}
	return h
}
