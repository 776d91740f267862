package shimclient

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Running finds the live shim processes whose state directory is in dir
// (the daemon's directory of shim state directories) and maps each state
// directory's name, the container's ID, to their pids. It reads the
// command lines Spawn gives shims (`berth-shim shim STATE-DIR`, or
// `berthd shim STATE-DIR`: the program does not matter), so it also
// finds a shim whose daemon died before it could record the shim's pid or
// before the shim answered on its socket.
func Running(dir string) map[string][]int {
	out := map[string][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if len(args) != 3 || args[1] != "shim" || filepath.Dir(args[2]) != filepath.Clean(dir) {
			continue
		}
		id := filepath.Base(args[2])
		out[id] = append(out[id], pid)
	}
	return out
}
