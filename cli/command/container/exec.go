package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/opts"
)

type execOptions struct {
	detach      bool
	interactive bool
	tty         bool
	user        string
	workdir     string
	env         []string
	envFile     []string
	privileged  bool
	detachKeys  string
}

// NewExecCommand returns `berth exec`.
func NewExecCommand(cli *command.Cli) *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Args:  command.RequiresMinArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd.Context(), cli, &o, args[0], args[1:])
		},
	}
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.BoolVarP(&o.detach, "detach", "d", false, "Detached mode: run command in the background")
	flags.BoolVarP(&o.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	flags.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	flags.StringVarP(&o.user, "user", "u", "", "Username or UID (format: \"<name|uid>[:<group|gid>]\")")
	flags.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	flags.StringArrayVarP(&o.env, "env", "e", nil, "Set environment variables")
	flags.StringArrayVar(&o.envFile, "env-file", nil, "Read in a file of environment variables")
	flags.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to the command")
	flags.StringVar(&o.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func runExec(ctx context.Context, cli *command.Cli, o *execOptions, container string, cmdArgs []string) error {
	var env []string
	for _, f := range o.envFile {
		vars, err := opts.ParseEnvFile(f, os.LookupEnv)
		if err != nil {
			return err
		}
		env = append(env, vars...)
	}
	for _, e := range o.env {
		if !strings.Contains(e, "=") {
			// "-e NAME" passes the variable from berth's environment, if set.
			if v, ok := os.LookupEnv(e); ok {
				env = append(env, e+"="+v)
			}
			continue
		}
		env = append(env, e)
	}
	if o.tty && o.interactive && !o.detach {
		if _, isTerm := cli.InFd(); !isTerm {
			return errors.New("the input device is not a TTY")
		}
	}
	apiClient, err := cli.Client()
	if err != nil {
		return err
	}
	create := client.ExecCreateOptions{
		User:         o.user,
		Privileged:   o.privileged,
		TTY:          o.tty,
		AttachStdin:  o.interactive && !o.detach,
		AttachStdout: !o.detach,
		AttachStderr: !o.detach && !o.tty,
		DetachKeys:   o.detachKeys,
		Env:          env,
		WorkingDir:   o.workdir,
		Cmd:          cmdArgs,
	}
	if o.tty {
		if fd, isTerm := cli.OutFd(); isTerm {
			if h, w, err := command.TermSize(fd); err == nil && h > 0 && w > 0 {
				create.ConsoleSize = client.ConsoleSize{Height: h, Width: w}
			}
		}
	}
	res, err := apiClient.ExecCreate(ctx, container, create)
	if err != nil {
		return err
	}
	if o.detach {
		_, err := apiClient.ExecStart(ctx, res.ID, client.ExecStartOptions{Detach: true, TTY: o.tty, ConsoleSize: create.ConsoleSize})
		return err
	}
	att, err := apiClient.ExecAttach(ctx, res.ID, client.ExecAttachOptions{TTY: o.tty, ConsoleSize: create.ConsoleSize})
	if err != nil {
		return err
	}
	resp := att.HijackedResponse
	defer resp.Close()
	var restore *command.TermState
	if create.AttachStdin && o.tty {
		if fd, isTerm := cli.InFd(); isTerm {
			if st, err := command.MakeRaw(fd); err == nil {
				restore = st
			}
		}
	}
	if o.tty {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		resizeExecTTY(ctx, cli, apiClient, res.ID)
	}
	err = streamAttached(cli, resp, attachOptions{stdin: create.AttachStdin, stdout: true, stderr: create.AttachStderr, tty: o.tty})
	_ = restore.Restore()
	if err != nil {
		return err
	}
	ins, err := apiClient.ExecInspect(ctx, res.ID, client.ExecInspectOptions{})
	if err != nil {
		return err
	}
	if ins.ExitCode != 0 {
		return command.StatusError{StatusCode: ins.ExitCode}
	}
	return nil
}

// resizeExecTTY sends the terminal's size to the exec process.
func resizeExecTTY(ctx context.Context, cli *command.Cli, apiClient client.APIClient, id string) {
	fd, isTerm := cli.OutFd()
	if !isTerm {
		return
	}
	if h, w, err := command.TermSize(fd); err == nil && h > 0 && w > 0 {
		_, _ = apiClient.ExecResize(ctx, id, client.ExecResizeOptions{Height: h, Width: w})
	}
}

// NewPauseCommand returns `berth pause`.
func NewPauseCommand(cli *command.Cli) *cobra.Command {
	return newEachCommand(cli, "pause", "Pause all processes within one or more containers",
		func(ctx context.Context, c client.APIClient, name string) error {
			_, err := c.ContainerPause(ctx, name, client.ContainerPauseOptions{})
			return err
		})
}

// NewUnpauseCommand returns `berth unpause`.
func NewUnpauseCommand(cli *command.Cli) *cobra.Command {
	return newEachCommand(cli, "unpause", "Unpause all processes within one or more containers",
		func(ctx context.Context, c client.APIClient, name string) error {
			_, err := c.ContainerUnpause(ctx, name, client.ContainerUnpauseOptions{})
			return err
		})
}

// newEachCommand builds a command without flags that applies op to every
// container named, printing each name as it succeeds.
func newEachCommand(cli *command.Cli, name, short string, op func(ctx context.Context, c client.APIClient, name string) error) *cobra.Command {
	return &cobra.Command{
		Use:   name + " CONTAINER [CONTAINER...]",
		Short: short,
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return command.ForEach(cli, args, func(apiClient client.APIClient, name string) error {
				return op(cmd.Context(), apiClient, name)
			}, nil)
		},
	}
}

// NewTopCommand returns `berth top`.
func NewTopCommand(cli *command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "top CONTAINER [ps OPTIONS]",
		Short: "Display the running processes of a container",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.ContainerTop(cmd.Context(), args[0], client.ContainerTopOptions{Arguments: args[1:]})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cli.Out, 20, 1, 3, ' ', 0)
			_, _ = fmt.Fprintln(w, strings.Join(res.Titles, "\t"))
			for _, p := range res.Processes {
				_, _ = fmt.Fprintln(w, strings.Join(p, "\t"))
			}
			return w.Flush()
		},
	}
}
