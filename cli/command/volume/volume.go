// Package volume implements `berth volume create|ls|inspect|rm|prune`.
package volume

import (
	"errors"
	"fmt"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/command/system"
	"github.com/berth-project/berth/cli/format"
	"github.com/berth-project/berth/cli/opts"
)

// NewVolumeCommand returns `berth volume` and its sub-commands.
func NewVolumeCommand(cli *command.Cli) *cobra.Command {
	return command.Group(cli, "volume", "Manage volumes",
		newCreateCommand(cli), newListCommand(cli), newInspectCommand(cli), newRemoveCommand(cli), newPruneCommand(cli),
	)
}

func newCreateCommand(cli *command.Cli) *cobra.Command {
	var (
		driver     string
		name       string
		driverOpts []string
		labels     []string
	)
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Args:  command.RequiresRangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if name != "" {
					return errors.New("conflicting options: cannot specify a volume-name through both --name and as a positional arg")
				}
				name = args[0]
			}
			o, err := opts.ParseKeyValueMap("--opt", driverOpts)
			if err != nil {
				return err
			}
			l, err := opts.ParseLabels(labels)
			if err != nil {
				return err
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.VolumeCreate(cmd.Context(), client.VolumeCreateOptions{Name: name, Driver: driver, DriverOpts: o, Labels: l})
			if err != nil {
				return err
			}
			_, _ = fmt.Fprintln(cli.Out, res.Volume.Name)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&driver, "driver", "d", "local", "Specify volume driver name")
	flags.StringVar(&name, "name", "", "Specify volume name")
	_ = flags.MarkHidden("name")
	flags.StringArrayVarP(&driverOpts, "opt", "o", nil, "Set driver specific options")
	flags.StringArrayVar(&labels, "label", nil, "Set metadata for a volume")
	return cmd
}

func newListCommand(cli *command.Cli) *cobra.Command {
	var (
		quiet   bool
		tmpl    string
		filters []string
	)
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := opts.ParseFilters(filters)
			if err != nil {
				return err
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.VolumeList(cmd.Context(), client.VolumeListOptions{Filters: f})
			if err != nil {
				return err
			}
			switch {
			case quiet:
				tmpl = "{{.Name}}"
			case tmpl == "" || tmpl == "table":
				tmpl = format.VolumeTableFormat
			}
			w, err := format.NewWriter(cli.Out, tmpl, format.VolumeHeader)
			if err != nil {
				return err
			}
			for _, v := range res.Items {
				if err := w.Write(format.Volume{V: v}); err != nil {
					return err
				}
			}
			return w.Flush()
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&quiet, "quiet", "q", false, "Only display volume names")
	flags.StringVar(&tmpl, "format", "", "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
	flags.StringArrayVarP(&filters, "filter", "f", nil, "Provide filter values (e.g. \"dangling=true\")")
	return cmd
}

func newInspectCommand(cli *command.Cli) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return system.Inspect(cmd.Context(), cli, args, tmpl, "volume", false)
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "Format output using a custom template")
	return cmd
}

func newRemoveCommand(cli *command.Cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Args:    command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				if _, err := apiClient.VolumeRemove(cmd.Context(), name, client.VolumeRemoveOptions{Force: force}); err != nil {
					errs = append(errs, errors.New(command.ErrorText(err)))
					continue
				}
				_, _ = fmt.Fprintln(cli.Out, name)
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of one or more volumes")
	return cmd
}

func newPruneCommand(cli *command.Cli) *cobra.Command {
	var (
		all, force bool
		filters    []string
	)
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused local volumes",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := opts.ParseFilters(filters)
			if err != nil {
				return err
			}
			warning := "WARNING! This will remove anonymous local volumes not used by at least one container."
			if all {
				warning = "WARNING! This will remove all local volumes not used by at least one container."
			}
			if !force && !command.Confirm(cli, warning) {
				return nil
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.VolumePrune(cmd.Context(), client.VolumePruneOptions{All: all, Filters: f})
			if err != nil {
				return err
			}
			if len(res.Report.VolumesDeleted) > 0 {
				_, _ = fmt.Fprintln(cli.Out, "Deleted Volumes:")
				for _, v := range res.Report.VolumesDeleted {
					_, _ = fmt.Fprintln(cli.Out, v)
				}
				_, _ = fmt.Fprintln(cli.Out)
			}
			_, err = fmt.Fprintf(cli.Out, "Total reclaimed space: %s\n", format.Size(int64(res.Report.SpaceReclaimed)))
			return err
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, `Provide filter values (e.g. "label=<label>")`)
	return cmd
}
