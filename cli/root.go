// Package cli assembles berth's command tree and runs it: global flags,
// Docker-compatible usage and error output, and exit statuses.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/command/container"
	"github.com/berth-project/berth/cli/command/image"
	"github.com/berth-project/berth/cli/command/network"
	"github.com/berth-project/berth/cli/command/registry"
	"github.com/berth-project/berth/cli/command/system"
	"github.com/berth-project/berth/cli/command/volume"
)

// Run executes berth with args (without the program name) on the given
// streams and returns the exit status. `berth kube ...` is handed to the
// berth-kube program (see kubeplugin.go).
func Run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	cli := &command.Cli{In: in, Out: out, Err: errOut}
	return RunWith(ctx, cli, args)
}

// RunWith is Run with a prepared Cli (tests set its NewClient).
func RunWith(ctx context.Context, cli *command.Cli, args []string) int {
	return execute(ctx, cli, NewRootCommand(cli), args)
}

// RunKube is Run for the berth-kube program: the same command tree, with
// newKube's `kube` command (which links the Kubernetes types) instead of
// the one that hands over to berth-kube.
func RunKube(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer, newKube func(*command.Cli) *cobra.Command) int {
	cli := &command.Cli{In: in, Out: out, Err: errOut}
	return execute(ctx, cli, newRootCommand(cli, newKube(cli)), args)
}

func execute(ctx context.Context, cli *command.Cli, root *cobra.Command, args []string) int {
	if isKubePlugin(root, args) {
		return runKubePlugin(cli, args)
	}
	root.SetArgs(args)
	root.SetIn(cli.In)
	root.SetOut(cli.Out)
	root.SetErr(cli.Err)
	err := root.ExecuteContext(ctx)
	_ = cli.Close()
	if err == nil {
		return 0
	}
	var se command.StatusError
	text := command.ErrorText(err)
	if errors.As(err, &se) {
		text = se.Status
		if text == "" && se.Cause != nil {
			text = command.ErrorText(se.Cause)
		}
	}
	if text != "" {
		_, _ = fmt.Fprintln(cli.Err, text)
	}
	return command.ExitCode(err)
}

// NewRootCommand returns the `berth` command with all sub-commands; its
// `kube` command hands over to the berth-kube program.
func NewRootCommand(cli *command.Cli) *cobra.Command {
	return newRootCommand(cli, newKubePluginCommand())
}

func newRootCommand(cli *command.Cli, kube *cobra.Command) *cobra.Command {
	var (
		host        string
		logLevel    string
		debug       bool
		showVersion bool
	)
	root := &cobra.Command{
		Use:           command.ProgramName + " [OPTIONS] COMMAND [ARG...]",
		Short:         "A Docker-compatible container engine with first-class read-only containers",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          unknownSubcommand,
		// Global flags go before the command name, as with docker; this
		// keeps their shorthands (-l, -H, -D) free for sub-commands.
		TraverseChildren: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			cli.Host = host
			if !cmd.Root().Flags().Changed("host") {
				if env := os.Getenv(command.HostEnv); env != "" {
					cli.Host = env
				}
			}
			if debug {
				logLevel = "debug"
			}
			return setupLogging(cli.Err, logLevel)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				_, err := fmt.Fprintf(cli.Out, "%s version %s, build %s\n", command.ProgramName, command.Version, command.GitCommit)
				return err
			}
			return cmd.Help()
		},
	}
	root.CompletionOptions.HiddenDefaultCmd = false
	root.SetFlagErrorFunc(command.FlagErrorFunc)
	pflags := root.Flags()
	pflags.StringVarP(&host, "host", "H", command.DefaultHost, "Daemon socket to connect to (env "+command.HostEnv+")")
	pflags.StringVarP(&logLevel, "log-level", "l", "warn", `Set the logging level ("debug"|"info"|"warn"|"error")`)
	pflags.BoolVarP(&debug, "debug", "D", false, "Enable debug mode")
	pflags.BoolVarP(&showVersion, "version", "v", false, "Print version information and quit")

	root.AddCommand(
		container.NewRunCommand(cli),
		container.NewCreateCommand(cli),
		container.NewStartCommand(cli),
		container.NewStopCommand(cli),
		container.NewKillCommand(cli),
		container.NewRestartCommand(cli),
		container.NewRmCommand(cli),
		container.NewPsCommand(cli),
		container.NewLogsCommand(cli),
		container.NewWaitCommand(cli),
		container.NewCpCommand(cli),
		container.NewExecCommand(cli),
		container.NewPauseCommand(cli),
		container.NewUnpauseCommand(cli),
		container.NewTopCommand(cli),
		container.NewUpdateCommand(cli),
		container.NewTmpfsCommand(cli),
		container.NewPortCommand(cli),
		container.NewAuditCommand(cli),
		container.NewRenameCommand(cli),
		container.NewDiffCommand(cli),
		container.NewCommitCommand(cli),
		container.NewExportCommand(cli),
		container.NewStatsCommand(cli),
		container.NewAttachCommand(cli),
		container.NewContainerCommand(cli),
		image.NewImagesCommand(cli),
		image.NewLoadCommand(cli),
		image.NewImportCommand(cli),
		image.NewRunlabelCommand(cli),
		image.NewTagCommand(cli),
		image.NewRmiCommand(cli),
		image.NewHistoryCommand(cli),
		image.NewSaveCommand(cli),
		image.NewImageCommand(cli),
		image.NewPullCommand(cli),
		image.NewPushCommand(cli),
		registry.NewLoginCommand(cli),
		registry.NewLogoutCommand(cli),
		volume.NewVolumeCommand(cli),
		network.NewNetworkCommand(cli),
		system.NewInspectCommand(cli),
		system.NewVersionCommand(cli),
		system.NewInfoCommand(cli),
		system.NewSystemCommand(cli),
		system.NewEventsCommand(cli),
		kube,
	)
	// `berth completion bash|zsh|fish|powershell`: cobra's generator.
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		// Runnable, so that an unknown shell is an error, as an unknown
		// sub-command is for the other groups.
		c.RunE = func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(cli.Err)
			return cmd.Help()
		}
	}
	walk(root, func(c *cobra.Command) {
		c.DisableFlagsInUseLine = true
		if c.HasSubCommands() && c != root {
			c.Args = unknownSubcommand
		}
	})
	root.SetUsageTemplate(usageTemplate)
	root.SetHelpTemplate("{{.UsageString}}")
	return root
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// unknownSubcommand refuses arguments to a command group with Docker's text.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s: unknown command: %s %s\n\n", command.ProgramName, cmd.CommandPath(), args[0])
	if cmd.HasParent() {
		msg += fmt.Sprintf("Usage:  %s\n\n", cmd.UseLine())
	}
	msg += fmt.Sprintf("Run '%s --help' for more information", cmd.CommandPath())
	return errors.New(msg)
}

func setupLogging(w io.Writer, level string) error {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "warn", "warning":
		l = slog.LevelWarn
	case "error", "fatal", "panic":
		l = slog.LevelError
	default:
		return command.StatusError{Status: fmt.Sprintf("invalid log level: %q", level), StatusCode: 125}
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})))
	return nil
}

const usageTemplate = `Usage:  {{.UseLine}}
{{if .Short}}
{{.Short}}
{{end}}{{if .HasAvailableSubCommands}}
Commands:
{{range .Commands}}{{if .IsAvailableCommand}}  {{rpad .Name .NamePadding}} {{.Short}}
{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}
Options:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}
{{end}}{{if .HasAvailableInheritedFlags}}
Global Options:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}
{{end}}{{if .HasAvailableSubCommands}}
Run '{{.CommandPath}} COMMAND --help' for more information on a command.
{{end}}`
