package command

import (
	"context"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/format"
	"github.com/berth-project/berth/cli/opts"
)

// List is what one of Docker's list commands (`network ls`, `volume ls`,
// `images`) states for itself; ListCommand adds what they share.
type List[T any] struct {
	// QuietUsage, FormatUsage and FilterUsage are the help of -q, --format
	// and -f/--filter, worded per command.
	QuietUsage, FormatUsage, FilterUsage string
	// QuietFormat is the template of -q ("{{.ID}}"); Table the one of an
	// empty or "table" --format. Header names the table's columns.
	QuietFormat, Table string
	Header             map[string]string
	// Rows asks the daemon for the items that match f (and the command's
	// arguments) and returns them as template contexts, in print order.
	Rows func(ctx context.Context, apiClient client.APIClient, args []string, f client.Filters) ([]T, error)
}

// ListCommand completes cmd (its Use, Short and Args set) into a list
// command: it adds -q/--quiet, --format and -f/--filter, and prints l.Rows
// through the chosen template.
func ListCommand[T any](cli *Cli, cmd *cobra.Command, l List[T]) *cobra.Command {
	var (
		quiet   bool
		tmpl    string
		filters []string
	)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		f, err := opts.ParseFilters(filters)
		if err != nil {
			return err
		}
		apiClient, err := cli.Client()
		if err != nil {
			return err
		}
		rows, err := l.Rows(cmd.Context(), apiClient, args, f)
		if err != nil {
			return err
		}
		return format.WriteAll(cli.Out, format.ListFormat(tmpl, quiet, l.QuietFormat, l.Table), l.Header, rows)
	}
	flags := cmd.Flags()
	flags.BoolVarP(&quiet, "quiet", "q", false, l.QuietUsage)
	flags.StringVar(&tmpl, "format", "", l.FormatUsage)
	flags.StringArrayVarP(&filters, "filter", "f", nil, l.FilterUsage)
	return cmd
}
