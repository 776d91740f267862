package container

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

// NewStopCommand returns `berth stop`.
func NewStopCommand(cli *command.Cli) *cobra.Command {
	var (
		timeout int
		signal  string
	)
	cmd := &cobra.Command{
		Use:   "stop [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Stop one or more running containers",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := client.ContainerStopOptions{Signal: signal}
			if timeoutChanged(cmd) {
				o.Timeout = &timeout
			}
			return command.ForEach(cli, args, func(apiClient client.APIClient, name string) error {
				_, err := apiClient.ContainerStop(cmd.Context(), name, o)
				return err
			}, nil)
		},
	}
	addStopFlags(cmd, &timeout, &signal)
	return cmd
}

// NewRestartCommand returns `berth restart`.
func NewRestartCommand(cli *command.Cli) *cobra.Command {
	var (
		timeout int
		signal  string
	)
	cmd := &cobra.Command{
		Use:   "restart [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := client.ContainerRestartOptions{Signal: signal}
			if timeoutChanged(cmd) {
				o.Timeout = &timeout
			}
			return command.ForEach(cli, args, func(apiClient client.APIClient, name string) error {
				_, err := apiClient.ContainerRestart(cmd.Context(), name, o)
				return err
			}, nil)
		},
	}
	addStopFlags(cmd, &timeout, &signal)
	return cmd
}

// NewKillCommand returns `berth kill`.
func NewKillCommand(cli *command.Cli) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return command.ForEach(cli, args, func(apiClient client.APIClient, name string) error {
				_, err := apiClient.ContainerKill(cmd.Context(), name, client.ContainerKillOptions{Signal: signal})
				return err
			}, nil)
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container")
	return cmd
}

// NewRmCommand returns `berth rm`.
func NewRmCommand(cli *command.Cli) *cobra.Command {
	var o client.ContainerRemoveOptions
	cmd := &cobra.Command{
		Use:   "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Remove one or more containers",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ignore func(error) bool
			if o.Force {
				// As Docker: "rm -f" of a missing container is not a failure.
				ignore = errdefs.IsNotFound
			}
			return command.ForEach(cli, args, func(apiClient client.APIClient, name string) error {
				name = strings.Trim(name, "/")
				if name == "" {
					return errors.New("container name cannot be empty")
				}
				_, err := apiClient.ContainerRemove(cmd.Context(), name, o)
				return err
			}, ignore)
		},
	}
	cmd.Flags().BoolVarP(&o.Force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	cmd.Flags().BoolVarP(&o.RemoveVolumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
	cmd.Flags().BoolVarP(&o.RemoveLinks, "link", "l", false, "Remove the specified link")
	return cmd
}

// NewWaitCommand returns `berth wait`.
func NewWaitCommand(cli *command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				code, err := waitOne(cmd.Context(), apiClient, name)
				if err != nil {
					errs = append(errs, errors.New(command.ErrorText(err)))
					continue
				}
				_, _ = fmt.Fprintln(cli.Out, code)
			}
			return errors.Join(errs...)
		},
	}
}

func waitOne(ctx context.Context, apiClient client.APIClient, name string) (int64, error) {
	res := apiClient.ContainerWait(ctx, name, client.ContainerWaitOptions{})
	select {
	case r := <-res.Result:
		if r.Error != nil && r.Error.Message != "" {
			return 0, errors.New(r.Error.Message)
		}
		return r.StatusCode, nil
	case err := <-res.Error:
		return 0, err
	}
}

// addStopFlags adds -s/--signal and -t/--timeout (with Docker's deprecated
// spelling --time as a hidden alias).
func addStopFlags(cmd *cobra.Command, timeout *int, signal *string) {
	flags := cmd.Flags()
	flags.StringVarP(signal, "signal", "s", "", "Signal to send to the container")
	flags.IntVarP(timeout, "timeout", "t", 0, "Seconds to wait before killing the container")
	flags.IntVar(timeout, "time", 0, "Seconds to wait before killing the container")
	_ = flags.MarkHidden("time")
}

func timeoutChanged(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("timeout") || cmd.Flags().Changed("time")
}
