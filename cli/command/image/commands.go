package image

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/format"
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
			now := time.Now()
			rows := make([]historyRow, len(res.Items))
			for i, h := range res.Items {
				rows[i] = historyRow{h: h, trunc: !noTrunc, human: human, created: time.Unix(h.Created, 0), now: now}
			}
			return format.WriteAll(cli.Out, format.ListFormat(tmpl, quiet, "{{.ID}}", historyTableFormat), historyHeader, rows)
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
			return command.SaveArchive(cli, output, func(apiClient client.APIClient) (io.ReadCloser, error) {
				return apiClient.ImageSave(cmd.Context(), args)
			})
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
	var all bool
	cmd := command.PruneCommand(cli, "Remove unused images", command.Prune{
		FilterUsage: `Provide filter values (e.g. "until=<timestamp>")`,
		Warning: func() string {
			if all {
				return "WARNING! This will remove all images without at least one container associated to them."
			}
			return "WARNING! This will remove all dangling images."
		},
		Prune: func(ctx context.Context, apiClient client.APIClient, f client.Filters) error {
			res, err := apiClient.ImagePrune(ctx, client.ImagePruneOptions{Filters: f.Add("dangling", strconv.FormatBool(!all))})
			if err != nil {
				return err
			}
			format.WriteDeleted(cli.Out, "Deleted Images:", format.PrunedImages(res.Report.ImagesDeleted))
			return format.WriteReclaimed(cli.Out, res.Report.SpaceReclaimed)
		},
	})
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused images, not just dangling ones")
	return cmd
}
