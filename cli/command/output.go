package command

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// SaveArchive writes the archive that fetch returns to the file path (-o),
// or to out when path is empty, where it refuses a terminal as docker save
// and export do.
func SaveArchive(cli *Cli, path string, fetch func(client.APIClient) (io.ReadCloser, error)) error {
	if path == "" {
		if _, isTerm := cli.OutFd(); isTerm {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
	}
	apiClient, err := cli.Client()
	if err != nil {
		return err
	}
	rc, err := fetch(apiClient)
	if err != nil {
		return err
	}
	defer rc.Close()
	return writeOutput(cli.Out, path, rc)
}

// writeOutput copies r to the file path (written to a temporary file
// renamed into place, so a failure leaves no partial file), or to out
// when path is empty.
func writeOutput(out io.Writer, path string, r io.Reader) error {
	if path == "" {
		_, err := io.Copy(out, r)
		return err
	}
	f, err := os.CreateTemp(dirOf(path), ".berth-output-")
	if err != nil {
		return fmt.Errorf("failed to save: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		if i == 0 {
			return "/"
		}
		return path[:i]
	}
	return "."
}

// Confirm prints warning and Docker's question, and reads the answer
// from the CLI's input: only "y" or "Y" confirms.
func Confirm(cli *Cli, warning string) bool {
	_, _ = fmt.Fprintf(cli.Out, "%s\nAre you sure you want to continue? [y/N] ", warning)
	line, _ := bufio.NewReader(cli.In).ReadString('\n')
	answer := strings.TrimSpace(line)
	return answer == "y" || answer == "Y"
}

// Renamed gives cmd another name (the first word of its Use) and aliases,
// for the command groups: `berth container ls` is `berth ps`.
func Renamed(cmd *cobra.Command, name string, aliases ...string) *cobra.Command {
	_, rest, _ := strings.Cut(cmd.Use, " ")
	cmd.Use = strings.TrimSpace(name + " " + rest)
	cmd.Aliases = aliases
	return cmd
}

// Group is a command that only holds sub-commands (`berth network`,
// `berth image`, ...): run alone, it prints its help on stderr.
func Group(cli *Cli, name, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   name + " COMMAND",
		Short: short,
		Args:  NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(cli.Err)
			return cmd.Help()
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}
