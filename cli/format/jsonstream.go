package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/moby/moby/api/types/jsonstream"
)

// streamMessage is one message of the daemon's JSON progress stream, with
// the legacy top-level "error" string some daemons still send.
type streamMessage struct {
	jsonstream.Message
	ErrorMessage string `json:"error,omitempty"`
}

// eachMessage decodes the daemon's JSON message stream and hands each
// message to fn, after writing its "stream" text to out. The first error
// message in the stream ends it as an error.
func eachMessage(in io.Reader, out io.Writer, fn func(streamMessage) error) error {
	dec := json.NewDecoder(in)
	for {
		var m streamMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading daemon response: %w", err)
		}
		switch {
		case m.Error != nil && m.Error.Message != "":
			return errors.New(m.Error.Message)
		case m.ErrorMessage != "":
			return errors.New(m.ErrorMessage)
		case m.Stream != "":
			if _, err := io.WriteString(out, m.Stream); err != nil {
				return err
			}
		default:
			if err := fn(m); err != nil {
				return err
			}
		}
	}
}

// DisplayJSONStream prints the daemon's JSON message stream (image load,
// import) as plain lines: "stream" text verbatim, "status" lines as
// "[id: ]status". Progress bars are not drawn. The first error message in
// the stream is returned as an error.
func DisplayJSONStream(in io.Reader, out io.Writer) error {
	return eachMessage(in, out, func(m streamMessage) error {
		if m.Status == "" || m.Progress != nil {
			// Progress updates are for terminals; skip them.
			return nil
		}
		line := m.Status
		if m.ID != "" {
			line = m.ID + ": " + line
		}
		_, err := fmt.Fprintln(out, line)
		return err
	})
}
