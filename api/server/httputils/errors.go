package httputils

import (
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errhttp"
	"github.com/moby/moby/api/types/common"
)

// StatusFromError returns the HTTP status code for err's class (see
// github.com/containerd/errdefs): 400 invalid argument, 404 not found,
// 409 conflict or already exists, 304 not modified, 412 failed precondition,
// 501 not implemented, 500 otherwise.
func StatusFromError(err error) int {
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
	_ = WriteJSON(w, code, common.ErrorResponse{Message: err.Error()})
	return code
}
