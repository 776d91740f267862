package container

import (
	"io"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

// NewLogsCommand returns `berth logs`.
func NewLogsCommand(cli *command.Cli) *cobra.Command {
	o := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			apiClient, inspect, err := inspectContainer(ctx, cli, args[0])
			if err != nil {
				return err
			}
			body, err := apiClient.ContainerLogs(ctx, inspect.Container.ID, o)
			if err != nil {
				return err
			}
			defer body.Close()
			if inspect.Container.Config != nil && inspect.Container.Config.Tty {
				_, err = io.Copy(cli.Out, body)
			} else {
				_, err = stdcopy.StdCopy(cli.Out, cli.Err, body)
			}
			return err
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.Follow, "follow", "f", false, "Follow log output")
	flags.StringVar(&o.Since, "since", "", "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)")
	flags.StringVar(&o.Until, "until", "", "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)")
	flags.BoolVarP(&o.Timestamps, "timestamps", "t", false, "Show timestamps")
	flags.BoolVar(&o.Details, "details", false, "Show extra details provided to logs")
	flags.StringVarP(&o.Tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
	return cmd
}
