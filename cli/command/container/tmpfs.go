package container

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/api/types/berth"
	"github.com/berth-project/berth/cli/command"
)

// NewTmpfsCommand returns `berth tmpfs`: the tmpfs mounts of a running
// container with their size and usage, from the "Berth" object of the
// daemon's inspect response.
func NewTmpfsCommand(cli *command.Cli) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "tmpfs [OPTIONS] CONTAINER",
		Short: "Show the size and usage of a running container's tmpfs mounts",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, res, err := inspectContainer(cmd.Context(), cli, args[0])
			if err != nil {
				return err
			}
			var resp berth.InspectResponse
			if err := json.Unmarshal(res.Raw, &resp); err != nil {
				return fmt.Errorf("decoding the inspect response: %w", err)
			}
			if resp.State == nil || !resp.State.Running {
				return fmt.Errorf("container %s is not running", args[0])
			}
			if resp.Berth == nil {
				return fmt.Errorf("the daemon reports no tmpfs usage for %s (not a berthd?)", args[0])
			}
			if jsonOut {
				enc := json.NewEncoder(cli.Out)
				enc.SetIndent("", "    ")
				return enc.Encode(resp.Berth.Tmpfs)
			}
			return writeTmpfsTable(cli.Out, resp.Berth.Tmpfs)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "Print the mounts as JSON")
	return cmd
}

// writeTmpfsTable prints one line per tmpfs mount: sizes in binary units
// as tmpfs sizes are given ("64MiB"), the share in use, the root's mode and
// owner, and whether the image's content was copied up.
func writeTmpfsTable(out io.Writer, mounts []berth.TmpfsUsage) error {
	w := tabwriter.NewWriter(out, 0, 1, 3, ' ', 0)
	_, _ = fmt.Fprintln(w, "DESTINATION\tSIZE\tUSED\tUSE%\tMODE\tOWNER\tCOPYUP")
	for _, m := range mounts {
		pct := "-"
		if m.SizeBytes > 0 {
			pct = fmt.Sprintf("%d%%", (m.UsedBytes*100+m.SizeBytes-1)/m.SizeBytes)
		}
		copyUp := "no"
		if m.CopyUp {
			copyUp = "yes"
		}
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d:%d\t%s\n", m.Destination,
			units.BytesSize(float64(m.SizeBytes)), units.BytesSize(float64(m.UsedBytes)), pct,
			m.Mode, m.UID, m.GID, copyUp)
	}
	return w.Flush()
}
