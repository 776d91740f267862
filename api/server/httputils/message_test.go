package httputils

import (
	"errors"
	"fmt"
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
)

func TestMessage(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("No such container: web: %w", errdefs.ErrNotFound), "No such container: web"},
		{fmt.Errorf("create: Duplicate mount point: /data: %w", errdefs.ErrInvalidArgument), "create: Duplicate mount point: /data"},
		{fmt.Errorf("outer: %w", fmt.Errorf("is running: %w", errdefs.ErrConflict)), "outer: is running"},
		{errdefs.ErrNotFound.WithMessage("No such image: x:latest"), "No such image: x:latest"},
		// the class is only cut where wrapping appended it
		{fmt.Errorf("%w: the thing", errdefs.ErrNotFound), "not found: the thing"},
		{errors.New("disk full: not found"), "disk full: not found"},
		{errors.New("plain"), "plain"},
	} {
		assert.Equal(t, Message(tc.err), tc.want)
	}
}
