package httputils

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// The query parameters are read from the URL only: r.ParseForm would consume
// a POST body sent as application/x-www-form-urlencoded, and the Engine API
// never sends parameters in the body.

// BoolValue reads the boolean query parameter key the way Docker does: absent,
// "", "0", "no", "false" and "none" (any case) are false, anything else true.
func BoolValue(r *http.Request, key string) bool {
	switch strings.ToLower(strings.TrimSpace(r.URL.Query().Get(key))) {
	case "", "0", "no", "false", "none":
		return false
	default:
		return true
	}
}

// BoolValueOrDefault is BoolValue, but returns def when key is absent.
func BoolValueOrDefault(r *http.Request, key string, def bool) bool {
	if _, ok := r.URL.Query()[key]; !ok {
		return def
	}
	return BoolValue(r, key)
}

// IntValue parses the integer query parameter key; ok is false when the
// parameter is absent or empty.
func IntValue(r *http.Request, key string) (v int, ok bool, err error) {
	s := r.URL.Query().Get(key)
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.Atoi(s)
	if err != nil {
		return 0, false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for %s: %q", key, s))
	}
	return v, true, nil
}

// UintValue parses the required unsigned integer query parameter key.
func UintValue(r *http.Request, key string) (uint, error) {
	s := r.URL.Query().Get(key)
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for %s: %q", key, s))
	}
	return uint(v), nil
}
