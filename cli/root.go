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
	return execute(ctx, cli, newRootCommandFor(cli, newKubePluginCommand, args), args)
}

// RunKube is Run for the berth-kube program: the same command tree, with
// newKube's `kube` command (which links the Kubernetes types) instead of
// the one that hands over to berth-kube.
func RunKube(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer, newKube func(*command.Cli) *cobra.Command) int {
	cli := &command.Cli{In: in, Out: out, Err: errOut}
	return execute(ctx, cli, newRootCommandFor(cli, newKube, args), args)
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
	root := newRoot(cli)
	addCommands(root, cli, newKubePluginCommand, "")
	return root
}

// newRootCommandFor returns the root command for args. When args name a
// top-level command (after the global flags), only that one is built: the
// whole tree, each command with its flags, costs about 0.4 ms of CPU and
// 1 MB of allocations, paid by every `berth run`. That command's parsing,
// help, errors and exit statuses do not depend on its siblings. Anything
// else (no command, an unknown one, help, completion) gets the whole tree.
func newRootCommandFor(cli *command.Cli, newKube func(*command.Cli) *cobra.Command, args []string) *cobra.Command {
	root := newRoot(cli)
	addCommands(root, cli, newKube, commandName(root, args))
	return root
}

func newRoot(cli *command.Cli) *cobra.Command {
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

	root.SetUsageTemplate(usageTemplate)
	root.SetHelpTemplate("{{.UsageString}}")
	return root
}

// topLevel lists berth's top-level commands: name (or alias) and
// constructor. TestTopLevelNames checks the names against the commands.
func topLevel(newKube func(*command.Cli) *cobra.Command) []topLevelCommand {
	return []topLevelCommand{
		{"run", container.NewRunCommand},
		{"create", container.NewCreateCommand},
		{"start", container.NewStartCommand},
		{"stop", container.NewStopCommand},
		{"kill", container.NewKillCommand},
		{"restart", container.NewRestartCommand},
		{"rm", container.NewRmCommand},
		{"ps", container.NewPsCommand},
		{"logs", container.NewLogsCommand},
		{"wait", container.NewWaitCommand},
		{"cp", container.NewCpCommand},
		{"exec", container.NewExecCommand},
		{"pause", container.NewPauseCommand},
		{"unpause", container.NewUnpauseCommand},
		{"top", container.NewTopCommand},
		{"update", container.NewUpdateCommand},
		{"tmpfs", container.NewTmpfsCommand},
		{"port", container.NewPortCommand},
		{"audit", container.NewAuditCommand},
		{"rename", container.NewRenameCommand},
		{"diff", container.NewDiffCommand},
		{"commit", container.NewCommitCommand},
		{"export", container.NewExportCommand},
		{"stats", container.NewStatsCommand},
		{"attach", container.NewAttachCommand},
		{"container", container.NewContainerCommand},
		{"images", image.NewImagesCommand},
		{"load", image.NewLoadCommand},
		{"import", image.NewImportCommand},
		{"runlabel", image.NewRunlabelCommand},
		{"tag", image.NewTagCommand},
		{"rmi", image.NewRmiCommand},
		{"history", image.NewHistoryCommand},
		{"save", image.NewSaveCommand},
		{"image", image.NewImageCommand},
		{"pull", image.NewPullCommand},
		{"push", image.NewPushCommand},
		{"login", registry.NewLoginCommand},
		{"logout", registry.NewLogoutCommand},
		{"volume", volume.NewVolumeCommand},
		{"network", network.NewNetworkCommand},
		{"inspect", system.NewInspectCommand},
		{"version", system.NewVersionCommand},
		{"info", system.NewInfoCommand},
		{"system", system.NewSystemCommand},
		{"events", system.NewEventsCommand},
		{"kube", newKube},
	}
}

type topLevelCommand struct {
	name string
	new  func(*command.Cli) *cobra.Command
}

// addCommands adds the top-level commands to root: all of them, or only the
// one named only if there is one of that name.
func addCommands(root *cobra.Command, cli *command.Cli, newKube func(*command.Cli) *cobra.Command, only string) {
	cmds := topLevel(newKube)
	all := true
	for _, c := range cmds {
		if only != "" && c.name == only {
			root.AddCommand(c.new(cli))
			all = false
		}
	}
	if all {
		for _, c := range cmds {
			root.AddCommand(c.new(cli))
		}
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
	}
	walk(root, func(c *cobra.Command) {
		c.DisableFlagsInUseLine = true
		if c.HasSubCommands() && c != root {
			c.Args = unknownSubcommand
		}
	})
}

// commandName returns the first argument that is not one of root's flags
// or a flag's value: the top-level command args run, or "" when there is
// none. The root's flags tell which flags take a value, as cobra's own
// traversal does.
func commandName(root *cobra.Command, args []string) string {
	flags := root.Flags()
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return ""
		case strings.HasPrefix(a, "--"):
			if f := flags.Lookup(a[2:]); f != nil && !strings.Contains(a, "=") && f.NoOptDefVal == "" {
				i++ // --host VALUE
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if f := flags.ShorthandLookup(a[1:]); len(a) == 2 && f != nil && f.NoOptDefVal == "" {
				i++ // -H VALUE
			}
		default:
			return a
		}
	}
	return ""
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
