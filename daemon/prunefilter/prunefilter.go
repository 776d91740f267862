// Package prunefilter parses the filters of Docker's prune endpoints
// (until, label, label!, dangling, all) once, into a value that decides
// which objects a prune removes.
package prunefilter

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
)

// Filter is a parsed prune filter.
type Filter struct {
	Until    time.Time // zero: no bound
	Labels   []string  // "key" or "key=value", all must match
	NoLabels []string  // label!: none may match
	// Dangling is the image prune's "dangling" (true unless given false).
	Dangling bool
	// All is the volume prune's "all": named volumes too.
	All bool
}

// Parse checks the filter terms allowed (the keys valid for one endpoint)
// and parses their values; now anchors durations ("24h" means created
// more than 24 hours before now).
func Parse(filters map[string][]string, allowed []string, now time.Time) (Filter, error) {
	f := Filter{Dangling: true}
	for key, values := range filters {
		ok := false
		for _, a := range allowed {
			ok = ok || a == key
		}
		if !ok {
			return Filter{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid filter '%s'", key))
		}
		switch key {
		case "until":
			if len(values) > 1 {
				return Filter{}, errdefs.ErrInvalidArgument.WithMessage("more than one until filter specified")
			}
			for _, v := range values {
				t, err := Timestamp(v, now)
				if err != nil {
					return Filter{}, err
				}
				f.Until = t
			}
		case "label":
			f.Labels = append(f.Labels, values...)
		case "label!":
			f.NoLabels = append(f.NoLabels, values...)
		case "dangling", "all":
			for _, v := range values {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return Filter{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s=%s'", key, v))
				}
				if key == "dangling" {
					f.Dangling = b
				} else {
					f.All = b
				}
			}
		}
	}
	return f, nil
}

// Match reports whether an object created at created with labels is
// selected: created before Until, with every Labels term and none of the
// NoLabels terms.
func (f Filter) Match(created time.Time, labels map[string]string) bool {
	if !f.Until.IsZero() && !created.Before(f.Until) {
		return false
	}
	for _, l := range f.Labels {
		if !hasLabel(labels, l) {
			return false
		}
	}
	for _, l := range f.NoLabels {
		if hasLabel(labels, l) {
			return false
		}
	}
	return true
}

func hasLabel(labels map[string]string, term string) bool {
	k, v, withValue := strings.Cut(term, "=")
	got, ok := labels[k]
	return ok && (!withValue || got == v)
}

// Timestamp parses a time as Docker's filters and --since/--until take
// it: a duration before now ("10m"), an RFC 3339 date or date-time (local
// time without a zone), or Unix seconds with an optional fraction.
func Timestamp(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && v != "" {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02T15", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	sec, frac, hasFrac := strings.Cut(v, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err == nil && (!hasFrac || (frac != "" && len(frac) <= 9)) {
		var ns int64
		if hasFrac {
			n, ferr := strconv.ParseUint(frac, 10, 64)
			if ferr != nil {
				err = ferr
			}
			ns = int64(n)
			for i := len(frac); i < 9; i++ {
				ns *= 10
			}
		}
		if err == nil {
			return time.Unix(s, ns), nil
		}
	}
	return time.Time{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("failed to parse value as time or duration: %q", v))
}
