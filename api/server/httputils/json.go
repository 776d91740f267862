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
// there is no body, and an invalid-argument error for malformed JSON, a
// non-JSON Content-Type, or content after the JSON document.
func ReadJSON(r *http.Request, out any) error {
	if err := CheckJSONContentType(r); err != nil {
		return err
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return ErrEmptyBody
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmptyBody
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
