package container

import (
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/format"
	"github.com/berth-project/berth/cli/opts"
)

type psOptions struct {
	all     bool
	quiet   bool
	size    bool
	latest  bool
	last    int
	noTrunc bool
	format  string
	filters []string
}

// NewPsCommand returns `berth ps`.
func NewPsCommand(cli *command.Cli) *cobra.Command {
	var o psOptions
	cmd := &cobra.Command{
		Use:   "ps [OPTIONS]",
		Short: "List containers",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPs(cmd, cli, &o)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.all, "all", "a", false, "Show all containers (default shows just running)")
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Only display container IDs")
	flags.BoolVarP(&o.size, "size", "s", false, "Display total file sizes")
	flags.BoolVarP(&o.latest, "latest", "l", false, "Show the latest created container (includes all states)")
	flags.IntVarP(&o.last, "last", "n", -1, "Show n last created containers (includes all states)")
	flags.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
	flags.StringVar(&o.format, "format", "", "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
	flags.StringArrayVarP(&o.filters, "filter", "f", nil, "Filter output based on conditions provided")
	return cmd
}

func runPs(cmd *cobra.Command, cli *command.Cli, o *psOptions) error {
	filters, err := opts.ParseFilters(o.filters)
	if err != nil {
		return err
	}
	tmpl := format.ListFormat(o.format, o.quiet, "{{.ID}}", format.ContainerTableFormat)
	lo := client.ContainerListOptions{All: o.all, Limit: o.last, Filters: filters}
	if o.latest && o.last == -1 {
		lo.Limit = 1
	}
	if o.size || strings.Contains(tmpl, ".Size") {
		lo.Size = true
		if o.size && tmpl == format.ContainerTableFormat {
			tmpl += "\t{{.Size}}"
		}
	}

	apiClient, err := cli.Client()
	if err != nil {
		return err
	}
	res, err := apiClient.ContainerList(cmd.Context(), lo)
	if err != nil {
		return err
	}
	w, err := format.NewWriter(cli.Out, tmpl, format.ContainerHeader)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, c := range res.Items {
		if err := w.Write(format.Container{C: c, Trunc: !o.noTrunc, Now: now}); err != nil {
			return fmt.Errorf("formatting container %s: %w", c.ID, err)
		}
	}
	return w.Flush()
}
