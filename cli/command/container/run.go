package container

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/pkg/runtrace"
)

type runOptions struct {
	containerOptions
	detach     bool
	sigProxy   bool
	detachKeys string
	pull       string
}

// NewRunCommand returns `berth run`.
func NewRunCommand(cli *command.Cli) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd, cli, &o, args)
		},
	}
	flags := cmd.Flags()
	addContainerFlags(flags, &o.containerOptions)
	addPullFlag(flags, &o.pull)
	flags.BoolVarP(&o.detach, "detach", "d", false, "Run container in background and print container ID")
	flags.BoolVar(&o.sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	flags.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func runRun(cmd *cobra.Command, cli *command.Cli, o *runOptions, args []string) error {
	ctx := cmd.Context()
	cc, err := o.parse(cmd.Flags(), args)
	if err != nil {
		return runStatusError(err)
	}
	if o.detach {
		cc.Config.AttachStdin = false
		cc.Config.AttachStdout = false
		cc.Config.AttachStderr = false
		cc.Config.StdinOnce = false
	} else if cc.Config.AttachStdin && cc.Config.Tty {
		if _, isTerm := cli.InFd(); !isTerm {
			return errors.New("the input device is not a TTY")
		}
	}

	apiClient, err := cli.Client()
	if err != nil {
		return runStatusError(err)
	}
	runtrace.Mark("cli create")
	id, err := createContainer(ctx, cli, cc, o.pull)
	if err != nil {
		return runStatusError(err)
	}
	runtrace.Mark("cli created")

	if o.detach {
		if _, err := apiClient.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
			return runStatusError(err)
		}
		_, _ = fmt.Fprintln(cli.Out, id)
		return nil
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	runtrace.Mark("cli attach")
	att, err := attachContainer(ctx, cli, apiClient, id, attachOptions{
		stdin:      cc.Config.AttachStdin,
		stdout:     cc.Config.AttachStdout,
		stderr:     cc.Config.AttachStderr,
		tty:        cc.Config.Tty,
		detachKeys: o.detachKeys,
	})
	if err != nil {
		return runStatusError(err)
	}
	runtrace.Mark("cli attached")
	statusCh := waitExitOrRemoved(ctx, cli, apiClient, id, cc.HostConfig.AutoRemove)
	runtrace.Mark("cli wait-sent")

	if o.sigProxy && !cc.Config.Tty {
		proxySignals(ctx, apiClient, id)
	}
	runtrace.Mark("cli start")
	if _, err := apiClient.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		att.close()
		if cc.HostConfig.AutoRemove {
			// The daemon removes the container; wait for that before exiting.
			<-statusCh
		}
		return runStatusError(err)
	}
	runtrace.Mark("cli started")
	if cc.Config.Tty {
		resizeTTY(ctx, cli, apiClient, id)
	}

	if err := <-att.done; err != nil {
		return fmt.Errorf("error attaching to container: %w", err)
	}
	runtrace.Mark("cli output-closed")
	status := <-statusCh
	runtrace.Mark("cli waited")
	if status != 0 {
		return command.StatusError{StatusCode: status}
	}
	return nil
}

// runStatusError maps a create/start failure to Docker's exit codes: 127
// when the command was not found, 126 when it could not be executed, 125
// for everything else (daemon or CLI errors).
func runStatusError(err error) error {
	msg := err.Error()
	code := 125
	switch {
	case client.IsErrConnectionFailed(err):
		// Connection errors may quote ENOENT/EACCES; they are still 125.
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		code = 127
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"), strings.Contains(msg, "cannot execute"):
		code = 126
	}
	return command.StatusError{Status: command.WithHelp(err, "run"), StatusCode: code, Cause: err}
}
