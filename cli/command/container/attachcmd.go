package container

import (
	"errors"
	"fmt"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

// NewAttachCommand returns `berth attach`.
func NewAttachCommand(cli *command.Cli) *cobra.Command {
	var (
		noStdin, sigProxy bool
		detachKeys        string
	)
	cmd := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			apiClient, inspect, err := inspectContainer(ctx, cli, args[0])
			if err != nil {
				return err
			}
			c := inspect.Container
			if c.State == nil || c.Config == nil || c.HostConfig == nil {
				return fmt.Errorf("incomplete inspect data for container %s", args[0])
			}
			if !c.State.Running {
				return errors.New("You cannot attach to a stopped container, start it first")
			}
			if c.State.Paused {
				return errors.New("You cannot attach to a paused container, unpause it first")
			}
			if c.State.Restarting {
				return errors.New("You cannot attach to a restarting container, wait until it is running")
			}
			tty := c.Config.Tty
			stdin := !noStdin && c.Config.OpenStdin
			if stdin && tty {
				if _, isTerm := cli.InFd(); !isTerm {
					return errors.New("the input device is not a TTY")
				}
			}
			statusCh := waitExitOrRemoved(ctx, cli, apiClient, c.ID, c.HostConfig.AutoRemove)
			att, err := attachContainer(ctx, cli, apiClient, c.ID, attachOptions{
				stdin: stdin, stdout: true, stderr: true, tty: tty, detachKeys: detachKeys,
			})
			if err != nil {
				return err
			}
			if tty {
				resizeTTY(ctx, cli, apiClient, c.ID)
			} else if sigProxy {
				proxySignals(ctx, apiClient, c.ID)
			}
			if err := <-att.done; err != nil {
				return fmt.Errorf("error attaching to container: %w", err)
			}
			// The stream ended: the container exited or, with a terminal
			// on stdin (where the detach keys work), the user detached.
			if tty && stdin {
				after, err := apiClient.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
				if err == nil && after.Container.State != nil && after.Container.State.Running {
					return nil
				}
			}
			if status := <-statusCh; status != 0 {
				return command.StatusError{StatusCode: status}
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.BoolVar(&noStdin, "no-stdin", false, "Do not attach STDIN")
	flags.BoolVar(&sigProxy, "sig-proxy", true, "Proxy all received signals to the process")
	flags.StringVar(&detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}
