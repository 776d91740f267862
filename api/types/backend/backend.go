// Package backend holds the option and result types that pass between the
// API server and the daemon, so that neither imports the other.
package backend

import (
	"io"
	"time"
)

// Filters are the decoded "filters" query parameter: key to accepted values.
type Filters map[string][]string

// ListOptions select containers for GET /containers/json.
type ListOptions struct {
	All     bool
	Limit   int
	Filters Filters
}

// LogsOptions select log lines for GET /containers/{id}/logs.
type LogsOptions struct {
	Follow     bool
	Stdout     bool
	Stderr     bool
	Timestamps bool
	Tail       string // "all" or a number
	Since      time.Time
	Until      time.Time
}

// LogMessage is one line of a container's log.
type LogMessage struct {
	Stream string // "stdout" or "stderr"
	Time   time.Time
	Line   []byte // with its trailing newline when it had one
}

// AttachStreams are the client's ends of an attach session. Stdin is nil
// when the client does not send input.
type AttachStreams struct {
	Stdin  io.ReadCloser
	Stdout io.Writer
	Stderr io.Writer
}

// AttachOptions describe POST /containers/{id}/attach.
type AttachOptions struct {
	Stdin, Stdout, Stderr bool
	Stream                bool
	Logs                  bool
	DetachKeys            string
	// GetStreams is called once the daemon knows whether the container has a
	// TTY, so that the server can choose raw or multiplexed output; it
	// hijacks the connection and returns the streams to use.
	GetStreams func(tty bool) (AttachStreams, error)
}
