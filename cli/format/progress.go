package format

import (
	"fmt"
	"io"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/jsonstream"
)

// DisplayProgressStream prints a pull or push stream on a terminal as the
// docker CLI does: one line per layer, redrawn in place (ANSI cursor
// moves) with a progress bar while it downloads. Without a terminal it is
// DisplayJSONStream. The first error message is returned as an error.
func DisplayProgressStream(in io.Reader, out io.Writer, isTerminal bool) error {
	if !isTerminal {
		return DisplayJSONStream(in, out)
	}
	var ids []string // lines on screen, top first
	return eachMessage(in, out, func(m streamMessage) error {
		switch {
		case m.Status != "" && m.ID == "":
			ids = nil // lines above are final
			_, err := fmt.Fprintln(out, m.Status)
			return err
		case m.Status != "":
			line := m.ID + ": " + m.Status
			if m.Progress != nil {
				if bar := ProgressBar(*m.Progress); bar != "" {
					line += " " + bar
				}
			}
			return redraw(out, &ids, m.ID, line)
		}
		return nil
	})
}

// redraw writes line in place of id's line, or below the others for a
// new id.
func redraw(out io.Writer, ids *[]string, id, line string) error {
	for i, have := range *ids {
		if have == id {
			up := len(*ids) - i
			_, err := fmt.Fprintf(out, "\x1b[%dA\r\x1b[2K%s\r\x1b[%dB", up, line, up)
			return err
		}
	}
	*ids = append(*ids, id)
	_, err := fmt.Fprintf(out, "\x1b[2K%s\n", line)
	return err
}

// ProgressBar renders "[====>     ]  1.2MB/3.4MB" for a progress detail,
// or "" when it has no total.
func ProgressBar(p jsonstream.Progress) string {
	if p.Total <= 0 {
		return ""
	}
	const width = 50
	cur := min(max(p.Current, 0), p.Total)
	filled := int(int64(width) * cur / p.Total)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("[%s] %8s/%s", bar, units.HumanSize(float64(p.Current)), units.HumanSize(float64(p.Total)))
}
