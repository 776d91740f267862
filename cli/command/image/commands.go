package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/format"
	"github.com/berth-project/berth/cli/opts"
)

// historyTableFormat is docker history's default table.
const historyTableFormat = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"

var historyHeader = map[string]string{
	"ID":           "IMAGE",
	"CreatedSince": "CREATED",
	"CreatedAt":    "CREATED AT",
	"CreatedBy":    "CREATED BY",
	"Size":         "SIZE",
	"Comment":      "COMMENT",
}

// historyRow is the template context of one docker history row.
type historyRow struct {
	h       image.HistoryResponseItem
	trunc   bool
	human   bool
	created time.Time
	now     time.Time
}

func (r historyRow) ID() string {
	if r.trunc && r.h.ID != "<missing>" {
		return format.TruncateID(r.h.ID)
	}
	return r.h.ID
}

func (r historyRow) CreatedSince() string {
	if !r.human {
		return r.CreatedAt()
	}
	return format.Since(r.created, r.now)
}

func (r historyRow) CreatedAt() string { return r.created.Format(time.RFC3339) }

func (r historyRow) CreatedBy() string {
	by := strings.ReplaceAll(r.h.CreatedBy, "\t", " ")
	if r.trunc {
		by = format.Ellipsis(by, 45)
	}
	return by
}

func (r historyRow) Size() string {
	if r.human {
		return format.Size(r.h.Size)
	}
	return strconv.FormatInt(r.h.Size, 10)
}

func (r historyRow) Comment() string { return r.h.Comment }

// MarshalJSON renders the row for --format json.
func (r historyRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"ID": r.ID(), "CreatedSince": r.CreatedSince(), "CreatedAt": r.CreatedAt(),
		"CreatedBy": r.CreatedBy(), "Size": r.Size(), "Comment": r.Comment(),
	})
}

// NewHistoryCommand returns `berth history` (also `berth image history`).
func NewHistoryCommand(cli *command.Cli) *cobra.Command {
	var (
		human, quiet, noTrunc bool
		tmpl                  string
	)
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.ImageHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			switch {
			case quiet:
				tmpl = "{{.ID}}"
			case tmpl == "" || tmpl == "table":
				tmpl = historyTableFormat
			}
			w, err := format.NewWriter(cli.Out, tmpl, historyHeader)
			if err != nil {
				return err
			}
			now := time.Now()
			for _, h := range res.Items {
				if err := w.Write(historyRow{h: h, trunc: !noTrunc, human: human, created: time.Unix(h.Created, 0), now: now}); err != nil {
					return err
				}
			}
			return w.Flush()
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&human, "human", "H", true, "Print sizes and dates in human readable format")
	flags.BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	flags.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	flags.StringVar(&tmpl, "format", "", "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
	return cmd
}

// NewSaveCommand returns `berth save` (also `berth image save`).
func NewSaveCommand(cli *command.Cli) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" {
				if _, isTerm := cli.OutFd(); isTerm {
					return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
				}
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			rc, err := apiClient.ImageSave(cmd.Context(), args)
			if err != nil {
				return err
			}
			defer rc.Close()
			return command.WriteOutput(cli.Out, output, rc)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

// NewImageCommand returns `berth image` and its sub-commands: the
// top-level image commands again (as `docker image ...`) and prune.
func NewImageCommand(cli *command.Cli) *cobra.Command {
	return command.Group(cli, "image", "Manage images",
		NewHistoryCommand(cli), NewImportCommand(cli), NewLoadCommand(cli),
		command.Renamed(NewImagesCommand(cli), "ls", "list"), NewPruneCommand(cli),
		command.Renamed(NewRmiCommand(cli), "rm", "remove", "rmi"), NewSaveCommand(cli), NewTagCommand(cli),
	)
}

// NewPruneCommand returns `berth image prune`.
func NewPruneCommand(cli *command.Cli) *cobra.Command {
	var (
		all, force bool
		filters    []string
	)
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := opts.ParseFilters(filters)
			if err != nil {
				return err
			}
			warning := "WARNING! This will remove all dangling images."
			if all {
				warning = "WARNING! This will remove all images without at least one container associated to them."
			}
			if !force && !command.Confirm(cli, warning) {
				return nil
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			report, err := Prune(cmd, apiClient, all, f)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cli.Out, report)
			return err
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused images, not just dangling ones")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, `Provide filter values (e.g. "until=<timestamp>")`)
	return cmd
}

// Prune prunes images and returns docker's report of it.
func Prune(cmd *cobra.Command, apiClient client.APIClient, all bool, f client.Filters) (string, error) {
	if f == nil {
		f = client.Filters{}
	}
	f = f.Add("dangling", strconv.FormatBool(!all))
	res, err := apiClient.ImagePrune(cmd.Context(), client.ImagePruneOptions{Filters: f})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if len(res.Report.ImagesDeleted) > 0 {
		b.WriteString("Deleted Images:\n")
		for _, d := range res.Report.ImagesDeleted {
			if d.Untagged != "" {
				fmt.Fprintf(&b, "untagged: %s\n", d.Untagged)
			}
			if d.Deleted != "" {
				fmt.Fprintf(&b, "deleted: %s\n", d.Deleted)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Total reclaimed space: %s\n", format.Size(int64(res.Report.SpaceReclaimed)))
	return b.String(), nil
}
