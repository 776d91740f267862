package tmpfsopt

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// kernelProbe says how to test one option and since which kernel it exists.
type kernelProbe struct {
	key, value   string // fsconfig parameter to set
	major, minor int    // first kernel release that has it
}

var kernelProbes = map[string]kernelProbe{
	// huge=never is accepted even without transparent huge pages; any
	// other value needs them, so probe with one.
	"huge":    {key: "huge", value: "within_size", major: 4, minor: 7},
	"noswap":  {key: "noswap", major: 6, minor: 4},
	"inode64": {key: "inode64", major: 5, minor: 9},
	"inode32": {key: "inode32", major: 5, minor: 9},
}

// probeResults caches one answer per option for the life of the process.
var probeResults = func() map[string]func() bool {
	m := make(map[string]func() bool, len(kernelProbes))
	for name, p := range kernelProbes {
		m[name] = sync.OnceValue(func() bool { return probeKernel(p) })
	}
	return m
}()

// KernelSupports reports whether the running kernel accepts the tmpfs option
// named ("huge", "noswap", "inode64" or "inode32"; see Options.RequiresKernel).
// Every other option is known to all supported kernels and reports true.
//
// The answer is probed once per process by configuring (not mounting) a tmpfs
// superblock with fsopen(2)/fsconfig(2), which needs CAP_SYS_ADMIN; without it
// the answer is derived from the kernel release.
func KernelSupports(option string) bool {
	probe, ok := probeResults[option]
	if !ok {
		return true
	}
	return probe()
}

func probeKernel(p kernelProbe) bool {
	fd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return releaseAtLeast(kernelRelease(), p.major, p.minor)
	}
	defer unix.Close(fd)
	if p.value == "" {
		err = unix.FsconfigSetFlag(fd, p.key)
	} else {
		err = unix.FsconfigSetString(fd, p.key, p.value)
	}
	switch {
	case err == nil:
		return true
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.ENOSYS):
		// Not allowed to ask (e.g. noswap in a user namespace): fall back.
		return releaseAtLeast(kernelRelease(), p.major, p.minor)
	default:
		return false // EINVAL: unknown parameter or unsupported value
	}
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// releaseAtLeast reports whether a kernel release string such as
// "6.1.0-18-amd64" is at least major.minor. An unparsable release is old.
func releaseAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	minStr := parts[1]
	if i := strings.IndexFunc(minStr, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minStr = minStr[:i]
	}
	mnr, err := strconv.Atoi(minStr)
	if err != nil {
		return false
	}
	return maj > major || maj == major && mnr >= minor
}
