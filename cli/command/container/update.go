package container

import (
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/opts"
)

// NewUpdateCommand returns `berth update`: new limits or restart policy
// for containers, running or not, as `docker update`.
func NewUpdateCommand(cli *command.Cli) *cobra.Command {
	var (
		r       resourceOptions
		restart string
	)
	cmd := &cobra.Command{
		Use:   "update [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Update configuration of one or more containers",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().NFlag() == 0 {
				return errdefs.ErrInvalidArgument.WithMessage("you must provide one or more flags when using this command")
			}
			res, err := r.resources(cmd.Flags())
			if err != nil {
				return err
			}
			o := client.ContainerUpdateOptions{Resources: &res}
			if cmd.Flags().Changed("restart") {
				p, err := opts.ParseRestartPolicy(restart)
				if err != nil {
					return err
				}
				o.RestartPolicy = &p
			}
			return command.ForEach(cli, args, func(apiClient client.APIClient, name string) error {
				out, err := apiClient.ContainerUpdate(cmd.Context(), name, o)
				for _, w := range out.Warnings {
					_, _ = fmt.Fprintln(cli.Err, "WARNING:", w)
				}
				return err
			}, nil)
		},
	}
	flags := cmd.Flags()
	addUpdateResourceFlags(flags, &r)
	flags.StringVar(&restart, "restart", "", "Restart policy to apply when a container exits")
	return cmd
}
