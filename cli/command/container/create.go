package container

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/command/image"
)

// NewCreateCommand returns `berth create`.
func NewCreateCommand(cli *command.Cli) *cobra.Command {
	var (
		o    containerOptions
		pull string
	)
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a new container",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, err := o.parse(cmd.Flags(), args)
			if err != nil {
				return command.StatusError{Status: command.WithHelp(err, "create"), StatusCode: 125, Cause: err}
			}
			id, err := createContainer(cmd.Context(), cli, cc, pull)
			if err != nil {
				return command.StatusError{Status: command.WithHelp(err, "create"), StatusCode: 125, Cause: err}
			}
			_, _ = fmt.Fprintln(cli.Out, id)
			return nil
		},
	}
	addContainerFlags(cmd.Flags(), &o)
	addPullFlag(cmd.Flags(), &pull)
	return cmd
}

func addPullFlag(flags *pflag.FlagSet, pull *string) {
	flags.StringVar(pull, "pull", pullMissing, `Pull image before creating ("always", "missing", "never")`)
}

// The --pull policies.
const (
	pullAlways  = "always"
	pullMissing = "missing"
	pullNever   = "never"
)

// createContainer sends the create request and prints the daemon's
// warnings to stderr. pull is the --pull policy: a missing image is
// pulled (progress on stderr, as docker does) and the create retried.
func createContainer(ctx context.Context, cli *command.Cli, cc *containerConfig, pull string) (string, error) {
	switch pull {
	case pullAlways, pullMissing, pullNever:
	default:
		return "", fmt.Errorf("invalid pull option: %q: must be one of %q, %q or %q", pull, pullAlways, pullMissing, pullNever)
	}
	apiClient, err := cli.Client()
	if err != nil {
		return "", err
	}
	if pull == pullAlways {
		if _, err := image.PullImage(ctx, cli, cc.Config.Image, "", cli.Err); err != nil {
			return "", err
		}
	}
	create := func() (client.ContainerCreateResult, error) {
		return apiClient.ContainerCreate(ctx, client.ContainerCreateOptions{
			Config:           cc.Config,
			HostConfig:       cc.HostConfig,
			NetworkingConfig: cc.Networking,
			Name:             cc.Name,
		})
	}
	res, err := create()
	if err != nil && pull == pullMissing && errdefs.IsNotFound(err) && strings.HasPrefix(errText(err), "No such image") {
		_, _ = fmt.Fprintf(cli.Err, "Unable to find image '%s' locally\n", cc.Config.Image)
		if _, perr := image.PullImage(ctx, cli, cc.Config.Image, "", cli.Err); perr != nil {
			return "", perr
		}
		res, err = create()
	}
	if err != nil {
		return "", err
	}
	for _, w := range res.Warnings {
		_, _ = fmt.Fprintf(cli.Err, "WARNING: %s\n", w)
	}
	return res.ID, nil
}

// errText is the daemon's message without the client's prefix.
func errText(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "Error response from daemon: "); ok {
		return after
	}
	return msg
}
