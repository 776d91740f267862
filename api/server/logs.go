package server

import (
	"io"
	"net/http"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/moby/moby/api/types"
	"github.com/moby/moby/client/pkg/versions"
)

// rfc3339NanoFixed is time.RFC3339Nano with the fraction padded to nine
// digits, so that timestamps have a fixed width, as Docker writes them.
const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

func (s *Server) getContainerLogs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	opts := LogsOptions{
		Follow:     httputils.BoolValue(r, "follow"),
		Stdout:     httputils.BoolValue(r, "stdout"),
		Stderr:     httputils.BoolValue(r, "stderr"),
		Timestamps: httputils.BoolValue(r, "timestamps"),
		Tail:       tailParam(q.Get("tail")),
	}
	// Checked before the stream starts: once the 200 is sent, errors can no
	// longer get a status code.
	if !opts.Stdout && !opts.Stderr {
		return invalidParameter("Bad parameters: you must choose at least one stream")
	}
	var err error
	if opts.Since, err = parseTimestamp(q.Get("since")); err != nil {
		return err
	}
	if opts.Until, err = parseTimestamp(q.Get("until")); err != nil {
		return err
	}

	ctx, cancel := s.streamContext(r.Context())
	defer cancel()
	msgs, tty, err := s.backend.ContainerLogs(ctx, r.PathValue("name"), opts)
	if err != nil {
		return err
	}

	contentType := types.MediaTypeRawStream
	if !tty && versions.GreaterThanOrEqualTo(httputils.VersionFromContext(r.Context()), "1.42") {
		contentType = types.MediaTypeMultiplexedStream
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()

	var stdout, stderr io.Writer = w, w
	if !tty {
		stdout = httputils.NewStdWriter(w, httputils.Stdout)
		stderr = httputils.NewStdWriter(w, httputils.Stderr)
	}
	for {
		var (
			msg LogMessage
			ok  bool
		)
		select {
		case msg, ok = <-msgs:
		case <-ctx.Done():
			return nil
		}
		if !ok {
			return nil
		}
		line := msg.Line
		if opts.Timestamps {
			line = append([]byte(msg.Time.Format(rfc3339NanoFixed)+" "), line...)
		}
		var out io.Writer
		switch {
		case msg.Stream == "stdout" && opts.Stdout:
			out = stdout
		case msg.Stream == "stderr" && opts.Stderr:
			out = stderr
		default:
			continue
		}
		if _, err := out.Write(line); err != nil {
			// The client went away; the response cannot carry an error.
			return nil
		}
		if len(msgs) == 0 {
			_ = rc.Flush()
		}
	}
}
