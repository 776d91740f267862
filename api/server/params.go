package server

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parseFilters decodes the "filters" query parameter. Docker clients send
// {"label":{"a=b":true}}; older ones send {"label":["a=b"]}. Both decode to
// the same Filters, with each term's values sorted.
func parseFilters(param string) (Filters, error) {
	if param == "" {
		return nil, nil
	}
	var sets map[string]map[string]bool
	if err := json.Unmarshal([]byte(param), &sets); err == nil {
		f := make(Filters, len(sets))
		for term, values := range sets {
			for v := range values {
				f[term] = append(f[term], v)
			}
			slices.Sort(f[term])
		}
		return f, nil
	}
	var lists map[string][]string
	if err := json.Unmarshal([]byte(param), &lists); err != nil {
		return nil, invalidParameter("invalid filter: %s", err)
	}
	f := make(Filters, len(lists))
	for term, values := range lists {
		f[term] = slices.Sorted(slices.Values(values))
	}
	return f, nil
}

// parseTimestamp reads a timestamp the API sends as Unix seconds with an
// optional fraction ("1700000000.123456789"). "" and "0" mean no time.
func parseTimestamp(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	invalid := invalidParameter("invalid timestamp %q: must be Unix seconds with an optional fraction", v)
	secStr, fracStr, hasFrac := strings.Cut(v, ".")
	sec, err := strconv.ParseInt(secStr, 10, 64)
	if err != nil {
		return time.Time{}, invalid
	}
	var nsec int64
	if hasFrac {
		if fracStr == "" || len(fracStr) > 9 {
			return time.Time{}, invalid
		}
		n, err := strconv.ParseInt(fracStr, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, invalid
		}
		nsec = n * int64(math.Pow10(9-len(fracStr)))
	}
	if sec == 0 && nsec == 0 {
		return time.Time{}, nil
	}
	return time.Unix(sec, nsec), nil
}
