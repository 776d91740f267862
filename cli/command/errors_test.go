package command

import (
	"errors"
	"fmt"
	"testing"

	"github.com/spf13/cobra"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	assert.Check(t, is.Equal(ExitCode(nil), 0))
	assert.Check(t, is.Equal(ExitCode(errors.New("x")), 1))
	assert.Check(t, is.Equal(ExitCode(StatusError{StatusCode: 125}), 125))
	assert.Check(t, is.Equal(ExitCode(fmt.Errorf("wrapped: %w", StatusError{StatusCode: 7})), 7))
}

func TestStatusErrorText(t *testing.T) {
	t.Parallel()
	assert.Check(t, is.Equal(StatusError{StatusCode: 3}.Error(), ""))
	assert.Check(t, is.Equal(StatusError{Status: "s", Cause: errors.New("c")}.Error(), "s"))
	assert.Check(t, is.Equal(StatusError{Cause: errors.New("c")}.Error(), "c"))
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	err := errors.New("failed to connect to the docker API at unix:///run/berth.sock; check if the path is correct")
	assert.Check(t, is.Equal(ErrorText(err), "failed to connect to the berth daemon at unix:///run/berth.sock; check if the path is correct"))
	assert.Check(t, is.Equal(WithHelp(errors.New("boom"), "run"), "berth: boom\n\nRun 'berth run --help' for more information"))
}

func TestArgValidators(t *testing.T) {
	t.Parallel()
	root := &cobra.Command{Use: "berth"}
	cmd := &cobra.Command{Use: "stop [OPTIONS] CONTAINER [CONTAINER...]", DisableFlagsInUseLine: true}
	root.AddCommand(cmd)

	assert.NilError(t, RequiresMinArgs(1)(cmd, []string{"a"}))
	assert.Check(t, is.Error(RequiresMinArgs(1)(cmd, nil),
		"berth: 'berth stop' requires at least 1 argument\n\nUsage:  berth stop [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth stop --help' for more information"))
	assert.Check(t, is.ErrorContains(ExactArgs(2)(cmd, []string{"a"}), "requires 2 arguments"))
	assert.Check(t, is.ErrorContains(NoArgs(cmd, []string{"a"}), "accepts no arguments"))
	assert.Check(t, is.ErrorContains(RequiresRangeArgs(1, 2)(cmd, []string{"a", "b", "c"}), "requires at least 1 and at most 2 arguments"))

	ferr := FlagErrorFunc(cmd, errors.New("unknown flag: --x"))
	assert.Check(t, is.Equal(ExitCode(ferr), 125))
	assert.Check(t, is.Equal(ferr.Error(), "unknown flag: --x\n\nUsage:  berth stop [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'berth stop --help' for more information"))
}
