// Package runtrace records where one `berth run` spends its time, for
// bench/run-breakdown. When the environment variable BERTH_TRACE names a
// file, Mark appends one line to it per call:
//
//	MICROSECONDS-SINCE-EPOCH PID EVENT
//
// The CLI, the daemon and the shims (which inherit the daemon's
// environment) append to the same file; each line is one write(2) on a
// file opened with O_APPEND, so lines from different processes never mix.
// The clock is the wall clock, the one bash's $EPOCHREALTIME reads, so a
// script can relate the lines to the moment it started a command. Without
// BERTH_TRACE, Mark costs one check of a boolean.
package runtrace

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Env is the variable that names the trace file.
const Env = "BERTH_TRACE"

var (
	once sync.Once
	file *os.File
	pid  string
)

func open() {
	path := os.Getenv(Env)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	file, pid = f, strconv.Itoa(os.Getpid())
}

// Enabled says whether marks are recorded.
func Enabled() bool {
	once.Do(open)
	return file != nil
}

// Mark records that the event named by the words in what happened now.
// Words are joined with spaces; newlines in them become spaces.
func Mark(what ...string) {
	if !Enabled() {
		return
	}
	line := strconv.FormatInt(time.Now().UnixMicro(), 10) + " " + pid + " " +
		strings.ReplaceAll(strings.Join(what, " "), "\n", " ") + "\n"
	_, _ = file.WriteString(line)
}
