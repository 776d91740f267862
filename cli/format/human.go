package format

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docker/go-units"
)

// Size renders a byte count with decimal units and three significant
// digits, as `docker images` does ("4.27MB", "0B").
func Size(n int64) string {
	return units.HumanSizeWithPrecision(float64(n), 3)
}

// Since renders the age of t relative to now, e.g. "2 minutes ago".
func Since(t, now time.Time) string {
	return units.HumanDuration(now.Sub(t)) + " ago"
}

// SinceUnix is Since for a Unix timestamp in seconds.
func SinceUnix(sec int64, now time.Time) string {
	return Since(time.Unix(sec, 0), now)
}

// ContainerStatus renders a container's state as `docker ps` shows it:
// "Created", "Up 3 seconds", "Up 2 hours (Paused)", "Restarting (1) 5 seconds
// ago", "Exited (0) 2 minutes ago", "Removal In Progress" or "Dead".
// startedAt and finishedAt may be zero when unknown.
func ContainerStatus(state string, exitCode int, startedAt, finishedAt, now time.Time) string {
	switch state {
	case "running":
		return "Up " + units.HumanDuration(now.Sub(startedAt))
	case "paused":
		return "Up " + units.HumanDuration(now.Sub(startedAt)) + " (Paused)"
	case "restarting":
		return fmt.Sprintf("Restarting (%d) %s ago", exitCode, units.HumanDuration(now.Sub(finishedAt)))
	case "removing":
		return "Removal In Progress"
	case "dead":
		return "Dead"
	case "exited":
		if finishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", exitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", exitCode, units.HumanDuration(now.Sub(finishedAt)))
	case "created", "":
		return "Created"
	}
	return state
}

// Ellipsis shortens s to at most max runes, replacing the tail by "…".
func Ellipsis(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	if max == 1 {
		return string(r[0])
	}
	return string(r[:max-1]) + "…"
}

// TruncateID shortens an object ID (with or without its "sha256:" prefix)
// to the 12 hex digits Docker shows.
func TruncateID(id string) string {
	if i := strings.IndexRune(id, ':'); i >= 0 {
		id = id[i+1:]
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// BinarySize renders a byte count with binary units ("23.45GiB"), as
// `docker info` shows memory.
func BinarySize(n int64) string {
	return units.BytesSize(float64(n))
}
