package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/format"
)

// inspectContainer returns the API client and the inspect data of the
// container name, for the commands that start from them (attach, logs,
// port, ...).
func inspectContainer(ctx context.Context, cli *command.Cli, name string) (client.APIClient, client.ContainerInspectResult, error) {
	apiClient, err := cli.Client()
	if err != nil {
		return nil, client.ContainerInspectResult{}, err
	}
	res, err := apiClient.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	return apiClient, res, err
}

// NewRenameCommand returns `berth rename`.
func NewRenameCommand(cli *command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  command.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			oldName, newName := strings.TrimSpace(args[0]), strings.TrimSpace(args[1])
			if oldName == "" || newName == "" {
				return errors.New("Error: Neither old nor new names may be empty")
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			if _, err := apiClient.ContainerRename(cmd.Context(), oldName, client.ContainerRenameOptions{NewName: newName}); err != nil {
				return fmt.Errorf("Error: failed to rename container named %s: %w", oldName, err)
			}
			return nil
		},
	}
}

// NewDiffCommand returns `berth diff`.
func NewDiffCommand(cli *command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "diff CONTAINER",
		Short: "Inspect changes to files or directories on a container's filesystem",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.ContainerDiff(cmd.Context(), args[0], client.ContainerDiffOptions{})
			if err != nil {
				return err
			}
			for _, c := range res.Changes {
				if _, err := fmt.Fprintf(cli.Out, "%s %s\n", c.Kind, c.Path); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// NewCommitCommand returns `berth commit`.
func NewCommitCommand(cli *command.Cli) *cobra.Command {
	var (
		pause           bool
		comment, author string
		changes         []string
	)
	cmd := &cobra.Command{
		Use:   "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		Short: "Create a new image from a container's changes",
		Args:  command.RequiresRangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.ContainerCommit(cmd.Context(), args[0], client.ContainerCommitOptions{
				Reference: ref, Comment: comment, Author: author, Changes: changes, NoPause: !pause,
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cli.Out, res.ID)
			return err
		},
	}
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.BoolVarP(&pause, "pause", "p", true, "Pause container during commit")
	flags.StringVarP(&comment, "message", "m", "", "Commit message")
	flags.StringVarP(&author, "author", "a", "", `Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`)
	flags.StringArrayVarP(&changes, "change", "c", nil, "Apply Dockerfile instruction to the created image")
	return cmd
}

// NewExportCommand returns `berth export`.
func NewExportCommand(cli *command.Cli) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] CONTAINER",
		Short: "Export a container's filesystem as a tar archive",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return command.SaveArchive(cli, output, func(apiClient client.APIClient) (io.ReadCloser, error) {
				return apiClient.ContainerExport(cmd.Context(), args[0], client.ContainerExportOptions{})
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

// NewContainerCommand returns `berth container` and its sub-commands:
// the top-level container commands again (as `docker container ...`) and
// prune.
func NewContainerCommand(cli *command.Cli) *cobra.Command {
	return command.Group(cli, "container", "Manage containers",
		NewAttachCommand(cli), NewCommitCommand(cli), NewCpCommand(cli), NewCreateCommand(cli),
		NewDiffCommand(cli), NewExecCommand(cli), NewExportCommand(cli), NewKillCommand(cli),
		NewLogsCommand(cli), command.Renamed(NewPsCommand(cli), "ls", "list", "ps"), NewPauseCommand(cli),
		NewPruneCommand(cli), NewRenameCommand(cli), NewRestartCommand(cli), command.Renamed(NewRmCommand(cli), "rm", "remove"),
		NewRunCommand(cli), NewStartCommand(cli), NewStatsCommand(cli), NewStopCommand(cli),
		NewTopCommand(cli), NewUnpauseCommand(cli), NewWaitCommand(cli),
	)
}

// NewPruneCommand returns `berth container prune`.
func NewPruneCommand(cli *command.Cli) *cobra.Command {
	return command.PruneCommand(cli, "Remove all stopped containers", command.Prune{
		FilterUsage: `Provide filter values (e.g. "until=<timestamp>")`,
		Warning:     func() string { return "WARNING! This will remove all stopped containers." },
		Prune: func(ctx context.Context, apiClient client.APIClient, f client.Filters) error {
			res, err := apiClient.ContainerPrune(ctx, client.ContainerPruneOptions{Filters: f})
			if err != nil {
				return err
			}
			format.WriteDeleted(cli.Out, "Deleted Containers:", res.Report.ContainersDeleted)
			return format.WriteReclaimed(cli.Out, res.Report.SpaceReclaimed)
		},
	})
}
