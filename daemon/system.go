package daemon

import (
	"context"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/system"
	"golang.org/x/sys/unix"
)

// API versions berthd serves.
const (
	APIVersion    = "1.47"
	MinAPIVersion = "1.24"
)

// SystemInfo answers GET /info.
func (d *Daemon) SystemInfo(ctx context.Context) (*system.Info, error) {
	info := &system.Info{
		ID:                 d.id(),
		Driver:             "overlay2",
		DriverStatus:       [][2]string{{"Backing Filesystem", "overlay"}, {"Supports d_type", "true"}},
		MemoryLimit:        d.host.MemoryLimit,
		SwapLimit:          d.host.SwapLimit,
		CPUCfsPeriod:       d.host.CPUCfs,
		CPUCfsQuota:        d.host.CPUCfs,
		CPUShares:          d.host.CPUShares,
		CPUSet:             d.host.Cpuset,
		PidsLimit:          d.host.PidsLimit,
		OomKillDisable:     d.host.OomKillDisable,
		IPv4Forwarding:     ipv4Forwarding(),
		NFd:                countFDs(),
		NGoroutines:        goruntime.NumGoroutine(),
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		LoggingDriver:      "json-file",
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      cgroupVersion(),
		KernelVersion:      kernelVersion(),
		OperatingSystem:    operatingSystem(),
		OSType:             "linux",
		Architecture:       arch(),
		IndexServerAddress: "https://index.docker.io/v1/",
		NCPU:               goruntime.NumCPU(),
		MemTotal:           memTotal(),
		DockerRootDir:      d.cfg.DataRoot,
		ServerVersion:      Version,
		DefaultRuntime:     d.cfg.Runtime,
		Runtimes:           map[string]system.RuntimeWithStatus{},
		SecurityOptions:    []string{seccompInfo(d.cfg.SeccompProfile), "name=cgroupns"},
		// Docker's info has no field for the production-mode defaults:
		// they are reported as daemon labels, which every client prints.
		Labels:   d.productionLabels(),
		Warnings: []string{},
		Images:   len(d.images.List()),
	}
	info.Name, _ = os.Hostname()
	if p := d.cfg.SeccompProfile; p != "" && p != "builtin" {
		info.Warnings = append(info.Warnings, "WARNING: daemon is not using the default seccomp profile")
	}
	for _, rt := range []string{"runc", "crun"} {
		if p, err := exec.LookPath(rt); err == nil {
			info.Runtimes[rt] = system.RuntimeWithStatus{Runtime: system.Runtime{Path: p}}
		}
	}
	for _, c := range d.containers.List() {
		c.Lock()
		info.Containers++
		switch c.State.Status {
		case containertypes.StateRunning:
			info.ContainersRunning++
		case containertypes.StatePaused:
			info.ContainersPaused++
		default:
			info.ContainersStopped++
		}
		c.Unlock()
	}
	return info, nil
}

// SystemVersion answers GET /version.
func (d *Daemon) SystemVersion(ctx context.Context) system.VersionResponse {
	return system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "Berth"},
		Version:       Version,
		APIVersion:    APIVersion,
		MinAPIVersion: MinAPIVersion,
		Os:            "linux",
		Arch:          goruntime.GOARCH,
		GoVersion:     goruntime.Version(),
		GitCommit:     GitCommit,
		KernelVersion: kernelVersion(),
		Components:    d.components(),
	}
}

// components lists what GET /version's Components shows in Docker: the
// engine (the docker CLI prints its Experimental detail) and the OCI
// runtimes with their versions.
func (d *Daemon) components() []system.ComponentVersion {
	out := []system.ComponentVersion{{
		Name:    "Engine",
		Version: Version,
		Details: map[string]string{
			"ApiVersion":    APIVersion,
			"MinAPIVersion": MinAPIVersion,
			"Os":            "linux",
			"Arch":          goruntime.GOARCH,
			"GoVersion":     goruntime.Version(),
			"KernelVersion": kernelVersion(),
			"Experimental":  "false",
			"GitCommit":     GitCommit,
		},
	}}
	for _, rt := range []string{"runc", "crun"} {
		p, err := exec.LookPath(rt)
		if err != nil {
			continue
		}
		v, commit := runtimeVersion(p)
		if v == "" {
			continue
		}
		out = append(out, system.ComponentVersion{Name: rt, Version: v, Details: map[string]string{"GitCommit": commit}})
	}
	return out
}

// runtimeVersions caches `RUNTIME --version` by path: the binary does not
// change under a running daemon often enough to run it on every request.
var runtimeVersions sync.Map

func runtimeVersion(path string) (version, commit string) {
	if v, ok := runtimeVersions.Load(path); ok {
		vc := v.([2]string)
		return vc[0], vc[1]
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", ""
	}
	version, commit = parseRuntimeVersion(string(out))
	runtimeVersions.Store(path, [2]string{version, commit})
	return version, commit
}

// parseRuntimeVersion reads runc's and crun's `--version` output:
// "runc version 1.1.5+ds1\ncommit: ...".
func parseRuntimeVersion(out string) (version, commit string) {
	for _, line := range strings.Split(out, "\n") {
		if _, v, ok := strings.Cut(line, " version "); ok && version == "" {
			version = strings.TrimSpace(v)
		}
		if c, ok := strings.CutPrefix(line, "commit: "); ok {
			commit = strings.TrimSpace(c)
		}
	}
	return version, commit
}

func (d *Daemon) id() string {
	p := d.cfg.DataRoot + "/engine-id"
	if data, err := os.ReadFile(p); err == nil {
		return strings.TrimSpace(string(data))
	}
	id := newID()[:32]
	_ = os.WriteFile(p, []byte(id), 0o600)
	return id
}

func kernelVersion() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

func arch() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return goruntime.GOARCH
	}
	return unix.ByteSliceToString(u.Machine[:])
}

func operatingSystem() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "Linux"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "Linux"
}

func memTotal() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

func cgroupVersion() string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "2"
	}
	return "1"
}

func countFDs() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}

// ipv4Forwarding reports whether the host forwards IPv4 packets, as
// dockerd's info does.
func ipv4Forwarding() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}
