package command

import (
	"bytes"
	"errors"
	"testing"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestForEach(t *testing.T) {
	t.Parallel()
	errMissing := errors.New("No such container: b")
	op := func(_ client.APIClient, name string) error {
		switch name {
		case "b":
			return errMissing
		case "c":
			return errors.New("Cannot connect to the Docker daemon at x")
		}
		return nil
	}
	for _, tc := range []struct {
		name           string
		ignore         func(error) bool
		stdout, stderr string
		err            string
	}{
		{name: "failures joined", stdout: "a\nd\n", err: "No such container: b\nCannot connect to the berth daemon at x"},
		{name: "ignored on stderr", ignore: func(err error) bool { return errors.Is(err, errMissing) },
			stdout: "a\nd\n", stderr: "No such container: b\n", err: "Cannot connect to the berth daemon at x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			cli := &Cli{Out: &out, Err: &errOut, NewClient: func(string) (client.APIClient, error) { return nil, nil }}
			err := ForEach(cli, []string{"a", "b", "c", "d"}, op, tc.ignore)
			assert.Check(t, is.Error(err, tc.err))
			assert.Check(t, is.Equal(out.String(), tc.stdout))
			assert.Check(t, is.Equal(errOut.String(), tc.stderr))
		})
	}
}

func TestForEachClientError(t *testing.T) {
	t.Parallel()
	cli := &Cli{NewClient: func(string) (client.APIClient, error) { return nil, errors.New("bad host") }}
	err := ForEach(cli, []string{"a"}, func(client.APIClient, string) error {
		t.Error("op ran without a client")
		return nil
	}, nil)
	assert.Check(t, is.Error(err, "bad host"))
}
