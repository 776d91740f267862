package opts

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// invalidf returns an error classed as errdefs.ErrInvalidArgument whose text
// is exactly the formatted message, so that flag errors read like Docker's.
func invalidf(format string, args ...any) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, args...))
}
