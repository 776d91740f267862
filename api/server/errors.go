package server

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// The errors the server itself makes carry Docker's exact messages, without
// the class name that wrapping with %w would append.

func invalidParameter(format string, a ...any) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, a...))
}

func notImplemented(format string, a ...any) error {
	return errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf(format, a...))
}
