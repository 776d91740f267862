package daemon

import "github.com/containerd/errdefs"

// Error classes, short names for the errdefs ones the daemon uses most.
var (
	errInvalid  = errdefs.ErrInvalidArgument
	errNotFound = errdefs.ErrNotFound
	errConflict = errdefs.ErrConflict
)
