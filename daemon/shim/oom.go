package shim

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// oomKills returns how many processes the kernel's OOM killer has killed
// in the cgroup at path: the oom_kill counter of memory.oom_control (cgroup
// v1) or memory.events (cgroup v2). ok is false when neither is readable.
func oomKills(root, path string) (n uint64, ok bool) {
	if path == "" {
		return 0, false
	}
	for _, f := range []string{
		filepath.Join(root, "memory", path, "memory.oom_control"),
		filepath.Join(root, path, "memory.events"),
	} {
		if n, ok := readCounter(f, "oom_kill"); ok {
			return n, true
		}
	}
	return 0, false
}

// readCounter reads the value of key in a flat keyed cgroup file.
func readCounter(file, key string) (uint64, bool) {
	f, err := os.Open(file)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		if k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
