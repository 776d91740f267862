package httputils

import (
	"errors"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errhttp"
	"github.com/moby/moby/api/types/common"
)

// StatusFromError returns the HTTP status code for err's class (see
// github.com/containerd/errdefs): 400 invalid argument, 404 not found,
// 409 conflict or already exists, 304 not modified, 412 failed precondition,
// 501 not implemented, 500 otherwise; 413 for a *BodyTooLargeError.
func StatusFromError(err error) int {
	if _, ok := errors.AsType[*BodyTooLargeError](err); ok {
		return http.StatusRequestEntityTooLarge
	}
	// errhttp does not know "already exists"; Docker answers it with 409.
	if errdefs.IsAlreadyExists(err) && !errdefs.IsNotFound(err) && !errdefs.IsInvalidArgument(err) {
		return http.StatusConflict
	}
	return errhttp.ToHTTP(err)
}

// WriteError writes err as Docker's {"message": ...} body with the status of
// its class, and returns that status. A 304 has no body.
func WriteError(w http.ResponseWriter, err error) int {
	code := StatusFromError(err)
	if code == http.StatusNotModified {
		w.WriteHeader(code)
		return code
	}
	_ = WriteJSON(w, code, common.ErrorResponse{Message: Message(err)})
	return code
}

// classes are the errdefs sentinels whose text wrapping with %w appends.
var classes = []error{
	errdefs.ErrInvalidArgument, errdefs.ErrNotFound, errdefs.ErrAlreadyExists, errdefs.ErrConflict,
	errdefs.ErrFailedPrecondition, errdefs.ErrNotImplemented, errdefs.ErrNotModified,
	errdefs.ErrPermissionDenied, errdefs.ErrUnavailable, errdefs.ErrResourceExhausted,
	errdefs.ErrAborted, errdefs.ErrOutOfRange, errdefs.ErrDataLoss, errdefs.ErrInternal,
	errdefs.ErrUnauthenticated, errdefs.ErrUnknown,
}

// Message is err's text as Docker shows it: without the ": not found"
// (or other class name) that classing an error with %w appends, e.g.
// "No such container: web", not "No such container: web: not found".
func Message(err error) string {
	msg := err.Error()
	for _, c := range classes {
		if suffix := ": " + c.Error(); errors.Is(err, c) && strings.HasSuffix(msg, suffix) {
			return strings.TrimSuffix(msg, suffix)
		}
	}
	return msg
}
