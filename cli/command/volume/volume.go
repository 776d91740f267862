// Package volume implements `berth volume create|ls|inspect|rm|prune`.
package volume

import (
	"context"
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
		newCreateCommand(cli), newListCommand(cli), system.NewTypeInspectCommand(cli, "volume"), newRemoveCommand(cli), newPruneCommand(cli),
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
	return command.ListCommand(cli, &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    command.NoArgs,
	}, command.List[format.Volume]{
		QuietUsage:  "Only display volume names",
		FormatUsage: "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')",
		FilterUsage: "Provide filter values (e.g. \"dangling=true\")",
		QuietFormat: "{{.Name}}",
		Table:       format.VolumeTableFormat,
		Header:      format.VolumeHeader,
		Rows: func(ctx context.Context, apiClient client.APIClient, _ []string, f client.Filters) ([]format.Volume, error) {
			res, err := apiClient.VolumeList(ctx, client.VolumeListOptions{Filters: f})
			if err != nil {
				return nil, err
			}
			rows := make([]format.Volume, len(res.Items))
			for i, v := range res.Items {
				rows[i] = format.Volume{V: v}
			}
			return rows, nil
		},
	})
}

func newRemoveCommand(cli *command.Cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Args:    command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return command.ForEach(cli, args, func(apiClient client.APIClient, name string) error {
				_, err := apiClient.VolumeRemove(cmd.Context(), name, client.VolumeRemoveOptions{Force: force})
				return err
			}, nil)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of one or more volumes")
	return cmd
}

func newPruneCommand(cli *command.Cli) *cobra.Command {
	var all bool
	cmd := command.PruneCommand(cli, "Remove unused local volumes", command.Prune{
		FilterUsage: `Provide filter values (e.g. "label=<label>")`,
		Warning: func() string {
			if all {
				return "WARNING! This will remove all local volumes not used by at least one container."
			}
			return "WARNING! This will remove anonymous local volumes not used by at least one container."
		},
		Prune: func(ctx context.Context, apiClient client.APIClient, f client.Filters) error {
			res, err := apiClient.VolumePrune(ctx, client.VolumePruneOptions{All: all, Filters: f})
			if err != nil {
				return err
			}
			format.WriteDeleted(cli.Out, "Deleted Volumes:", res.Report.VolumesDeleted)
			return format.WriteReclaimed(cli.Out, res.Report.SpaceReclaimed)
		},
	})
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	return cmd
}
