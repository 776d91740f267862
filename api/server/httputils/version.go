package httputils

import "context"

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
