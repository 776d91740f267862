package format

import (
	"fmt"
	"io"

	"github.com/moby/moby/api/types/image"
)

// WriteDeleted prints what a prune deleted as docker does: title
// ("Deleted Containers:"), one item a line and a blank line; nothing when
// items is empty.
func WriteDeleted(out io.Writer, title string, items []string) {
	if len(items) == 0 {
		return
	}
	_, _ = fmt.Fprintln(out, title)
	for _, it := range items {
		_, _ = fmt.Fprintln(out, it)
	}
	_, _ = fmt.Fprintln(out)
}

// WriteReclaimed prints the last line of a prune: "Total reclaimed space: 1.2MB".
func WriteReclaimed(out io.Writer, reclaimed uint64) error {
	_, err := fmt.Fprintf(out, "Total reclaimed space: %s\n", Size(int64(reclaimed)))
	return err
}

// PrunedImages lists an image prune's deletions as docker prints them:
// "untagged: REF" and "deleted: ID" lines.
func PrunedImages(items []image.DeleteResponse) []string {
	var lines []string
	for _, d := range items {
		if d.Untagged != "" {
			lines = append(lines, "untagged: "+d.Untagged)
		}
		if d.Deleted != "" {
			lines = append(lines, "deleted: "+d.Deleted)
		}
	}
	return lines
}
