package command

import (
	"context"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/opts"
)

// Prune is what one of Docker's prune commands (`container prune`,
// `volume prune`, `image prune`) states for itself; PruneCommand adds what
// they share.
type Prune struct {
	// FilterUsage is the help of --filter, worded per command.
	FilterUsage string
	// Warning is what the question before pruning warns of; it is asked
	// for at run time, after the command's own flags are set.
	Warning func() string
	// Prune asks the daemon to prune what matches f and prints the report.
	Prune func(ctx context.Context, apiClient client.APIClient, f client.Filters) error
}

// PruneCommand returns `prune [OPTIONS]` with the short help short: it adds
// -f/--force and --filter and, unless forced, asks for confirmation before
// p.Prune.
func PruneCommand(cli *Cli, short string, p Prune) *cobra.Command {
	var (
		force   bool
		filters []string
	)
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: short,
		Args:  NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := opts.ParseFilters(filters)
			if err != nil {
				return err
			}
			if !force && !Confirm(cli, p.Warning()) {
				return nil
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			return p.Prune(cmd.Context(), apiClient, f)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, p.FilterUsage)
	return cmd
}
