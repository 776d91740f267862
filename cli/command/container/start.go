package container

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

type startOptions struct {
	attach      bool
	interactive bool
	detachKeys  string
}

// NewStartCommand returns `berth start`.
func NewStartCommand(cli *command.Cli) *cobra.Command {
	var o startOptions
	cmd := &cobra.Command{
		Use:   "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.attach || o.interactive {
				if len(args) > 1 {
					return errors.New("you cannot start and attach multiple containers at once")
				}
				return startAttached(cmd, cli, &o, args[0])
			}
			return startDetached(cmd, cli, args)
		},
	}
	cmd.Flags().BoolVarP(&o.attach, "attach", "a", false, "Attach STDOUT/STDERR and forward signals")
	cmd.Flags().BoolVarP(&o.interactive, "interactive", "i", false, "Attach container's STDIN")
	cmd.Flags().StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func startDetached(cmd *cobra.Command, cli *command.Cli, names []string) error {
	var failed []string
	err := command.ForEach(cli, names, func(apiClient client.APIClient, name string) error {
		_, err := apiClient.ContainerStart(cmd.Context(), name, client.ContainerStartOptions{})
		if err != nil {
			failed = append(failed, name)
		}
		return err
	}, nil)
	if len(failed) > 0 {
		return errors.Join(err, fmt.Errorf("Error: failed to start containers: %s", strings.Join(failed, ", ")))
	}
	return err
}

func startAttached(cmd *cobra.Command, cli *command.Cli, o *startOptions, name string) error {
	ctx := cmd.Context()
	apiClient, inspect, err := inspectContainer(ctx, cli, name)
	if err != nil {
		return err
	}
	c := inspect.Container
	if c.Config == nil || c.HostConfig == nil {
		return fmt.Errorf("incomplete inspect data for container %s", name)
	}
	tty := c.Config.Tty
	stdin := o.interactive && c.Config.OpenStdin
	if stdin && tty {
		if _, isTerm := cli.InFd(); !isTerm {
			return errors.New("the input device is not a TTY")
		}
	}
	att, err := attachContainer(ctx, cli, apiClient, c.ID, attachOptions{
		stdin:      stdin,
		stdout:     o.attach,
		stderr:     o.attach,
		tty:        tty,
		detachKeys: o.detachKeys,
	})
	if err != nil {
		return err
	}
	statusCh := waitExitOrRemoved(ctx, cli, apiClient, c.ID, c.HostConfig.AutoRemove)
	if !tty {
		proxySignals(ctx, apiClient, c.ID)
	}
	if _, err := apiClient.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
		att.close()
		return err
	}
	if tty {
		resizeTTY(ctx, cli, apiClient, c.ID)
	}
	if err := <-att.done; err != nil {
		return fmt.Errorf("error attaching to container: %w", err)
	}
	if status := <-statusCh; status != 0 {
		return command.StatusError{StatusCode: status}
	}
	return nil
}
