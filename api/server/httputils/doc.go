// Package httputils holds the request and response plumbing shared by the
// Engine API routes: the negotiated API version in a request's context, query
// parameter parsing with Docker's semantics, JSON bodies, the mapping of error
// classes to HTTP status codes, and the multiplexed stdout/stderr framing.
package httputils
