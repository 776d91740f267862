package httputils

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/containerd/errdefs"
)

// MaxJSONBody bounds a JSON request body. Docker's largest requests
// (container create with its full config) are a few kilobytes; streams
// (archives, image load and import) are not JSON and are not bounded.
const MaxJSONBody = 10 << 20

// BodyTooLargeError is a request body over its limit; the server answers
// it with 413 Request Entity Too Large.
type BodyTooLargeError struct{ Limit int64 }

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("request body is too large: a JSON request body is limited to %d MiB", e.Limit>>20)
}

// ErrEmptyBody is returned by ReadJSON when the request has no body.
var ErrEmptyBody = errdefs.ErrInvalidArgument.WithMessage("invalid JSON: got EOF while reading request body")

// CheckJSONContentType rejects a request whose Content-Type is set to
// something other than application/json. A missing Content-Type is accepted.
func CheckJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("malformed Content-Type header (%s)", ct))
	}
	if mt != "application/json" {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unsupported Content-Type header (%s): must be 'application/json'", ct))
	}
	return nil
}

// ReadJSON decodes the request body into out. It returns ErrEmptyBody when
// there is no body, a *BodyTooLargeError for a body over MaxJSONBody (found
// from Content-Length before reading, or after reading MaxJSONBody bytes of
// a chunked body, so that a huge body never sits in memory), and an
// invalid-argument error for malformed JSON, a non-JSON Content-Type, or
// content after the JSON document.
func ReadJSON(r *http.Request, out any) error {
	if err := CheckJSONContentType(r); err != nil {
		return err
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return ErrEmptyBody
	}
	if r.ContentLength > MaxJSONBody {
		return &BodyTooLargeError{Limit: MaxJSONBody}
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxJSONBody))
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmptyBody
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &BodyTooLargeError{Limit: MaxJSONBody}
		}
		return errdefs.ErrInvalidArgument.WithMessage("invalid JSON: " + err.Error())
	}
	if dec.More() {
		return errdefs.ErrInvalidArgument.WithMessage("unexpected content after JSON")
	}
	return nil
}

// WriteJSON writes v as JSON with status code.
func WriteJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
