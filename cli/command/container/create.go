package container

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

// NewCreateCommand returns `berth create`.
func NewCreateCommand(cli *command.Cli) *cobra.Command {
	var o containerOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a new container",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, err := o.parse(cmd.Flags(), args)
			if err != nil {
				return command.StatusError{Status: command.WithHelp(err, "create"), StatusCode: 125, Cause: err}
			}
			id, err := createContainer(cmd.Context(), cli, cc)
			if err != nil {
				return command.StatusError{Status: command.WithHelp(err, "create"), StatusCode: 125, Cause: err}
			}
			_, _ = fmt.Fprintln(cli.Out, id)
			return nil
		},
	}
	addContainerFlags(cmd.Flags(), &o)
	return cmd
}

// createContainer sends the create request and prints the daemon's
// warnings to stderr.
func createContainer(ctx context.Context, cli *command.Cli, cc *containerConfig) (string, error) {
	apiClient, err := cli.Client()
	if err != nil {
		return "", err
	}
	res, err := apiClient.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:           cc.Config,
		HostConfig:       cc.HostConfig,
		NetworkingConfig: cc.Networking,
		Name:             cc.Name,
	})
	if err != nil {
		return "", err
	}
	for _, w := range res.Warnings {
		_, _ = fmt.Fprintf(cli.Err, "WARNING: %s\n", w)
	}
	return res.ID, nil
}
