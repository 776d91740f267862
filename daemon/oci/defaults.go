package oci

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultMounts are the filesystems every container gets, as Docker's
// default spec; /dev/shm receives its size in WithMounts.
func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777"}},
	}
}

// maskedPaths hide host information from the container, as Docker.
var maskedPaths = []string{
	"/proc/acpi",
	"/proc/asound",
	"/proc/interrupts",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/sys/devices/virtual/powercap",
	"/sys/firmware",
}

// readonlyPaths are kernel interfaces the container may read but not change.
var readonlyPaths = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// defaultDeviceRules deny every device, then allow creating device nodes
// and using the standard character devices. Docker leaves part of this list
// to the runtime; Berth spells it out so runc and crun behave alike.
func defaultDeviceRules() []specs.LinuxDeviceCgroup {
	char := func(major, minor int64) specs.LinuxDeviceCgroup {
		r := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Access: "rwm"}
		if minor >= 0 {
			r.Minor = &minor
		}
		return r
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Access: "m"}, // mknod of any char device
		{Allow: true, Type: "b", Access: "m"}, // mknod of any block device

		char(1, 3),    // /dev/null
		char(1, 5),    // /dev/zero
		char(1, 7),    // /dev/full
		char(1, 8),    // /dev/random
		char(1, 9),    // /dev/urandom
		char(5, 0),    // /dev/tty
		char(5, 1),    // /dev/console
		char(5, 2),    // /dev/ptmx
		char(136, -1), // /dev/pts/*
	}
}

// SpecVersion is the ociVersion written into every spec. crun 1.8.1 (the
// Debian 12 package) refuses any version that does not contain "1.0"
// ("unknown version specified"); runc ignores the field. The spec Berth
// builds uses nothing newer than 1.0.2, as Docker's "1.0.2-dev" did.
const SpecVersion = "1.0.2-dev"

// defaultSpec returns Docker's default Linux spec before any container
// setting is applied.
func defaultSpec() *specs.Spec {
	return &specs.Spec{
		Version: SpecVersion,
		Process: &specs.Process{Cwd: "/"},
		Root:    &specs.Root{},
		Mounts:  defaultMounts(),
		Linux: &specs.Linux{
			MaskedPaths:   append([]string(nil), maskedPaths...),
			ReadonlyPaths: append([]string(nil), readonlyPaths...),
			Resources:     &specs.LinuxResources{Devices: defaultDeviceRules()},
		},
	}
}
