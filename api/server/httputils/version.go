package httputils

import (
	"context"
	"strconv"
	"strings"
)

type versionKey struct{}

// WithVersion returns a copy of ctx carrying the API version of the request.
func WithVersion(ctx context.Context, version string) context.Context {
	return context.WithValue(ctx, versionKey{}, version)
}

// VersionFromContext returns the API version stored by WithVersion, or ""
// when there is none.
func VersionFromContext(ctx context.Context) string {
	v, _ := ctx.Value(versionKey{}).(string)
	return v
}

// CompareVersions compares two dotted API versions ("1.47") numerically and
// returns -1, 0 or 1. Missing or non-numeric parts count as 0.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

// VersionLessThan reports whether API version v is older than other.
func VersionLessThan(v, other string) bool { return CompareVersions(v, other) < 0 }

// VersionAtLeast reports whether API version v is other or newer.
func VersionAtLeast(v, other string) bool { return CompareVersions(v, other) >= 0 }
