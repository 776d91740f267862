package command

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// StatusError is an error that ends berth with a given exit status. An empty
// Status with no Cause prints nothing (a container's own exit status).
type StatusError struct {
	Status     string
	StatusCode int
	Cause      error
}

func (e StatusError) Error() string {
	if e.Status != "" {
		return e.Status
	}
	if e.Cause != nil {
		return e.Cause.Error()
	}
	return ""
}

func (e StatusError) Unwrap() error { return e.Cause }

// ExitCode returns the exit status for err: the StatusCode of a
// StatusError, 0 for nil, 1 otherwise.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var se StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 1
}

// ErrorText is the user-facing text of err: the client's "Docker daemon"
// wording is replaced by berth's.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	return strings.NewReplacer(
		"Cannot connect to the Docker daemon", "Cannot connect to the berth daemon",
		"failed to connect to the docker API at", "failed to connect to the berth daemon at",
		"while trying to connect to the docker API at", "while trying to connect to the berth daemon at",
		"Is the docker daemon running?", "Is the berth daemon running?",
		"cannot connect to the Docker daemon. Is 'docker daemon' running on this host?", "cannot connect to the berth daemon",
	).Replace(err.Error())
}

// WithHelp formats err as Docker does for run/create failures:
// "berth: <err>\n\nRun 'berth <cmd> --help' for more information".
func WithHelp(err error, cmd string) string {
	return fmt.Sprintf("%s: %s\n\nRun '%s %s --help' for more information", ProgramName, ErrorText(err), ProgramName, cmd)
}

// FlagErrorFunc turns a flag parsing error into exit status 125 with the
// command's usage line, as Docker's CLI does.
func FlagErrorFunc(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	return StatusError{
		Status:     fmt.Sprintf("%s\n\nUsage:  %s\n\nRun '%s --help' for more information", err, cmd.UseLine(), cmd.CommandPath()),
		StatusCode: 125,
		Cause:      err,
	}
}

func argsError(cmd *cobra.Command, what string) error {
	return fmt.Errorf("%s: '%s' %s\n\nUsage:  %s\n\nSee '%s --help' for more information",
		ProgramName, cmd.CommandPath(), what, cmd.UseLine(), cmd.CommandPath())
}

func plural(n int) string {
	if n == 1 {
		return "argument"
	}
	return "arguments"
}

// NoArgs refuses any positional argument.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return argsError(cmd, "accepts no arguments")
}

// RequiresMinArgs refuses fewer than n positional arguments.
func RequiresMinArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at least %d %s", n, plural(n)))
	}
}

// ExactArgs refuses any count of positional arguments but n.
func ExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires %d %s", n, plural(n)))
	}
}

// RequiresRangeArgs refuses fewer than min or more than max arguments.
func RequiresRangeArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= min && len(args) <= max {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("requires at least %d and at most %d %s", min, max, plural(max)))
	}
}
