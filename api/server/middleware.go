package server

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/berth-project/berth/pkg/runtrace"
	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/client/pkg/versions"
)

// apiFunc is an API endpoint. It returns an error instead of writing one, so
// that the status code is chosen in a single place (writeError).
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// versionSegment is the version prefix of a path, as Docker's router accepts
// it: "/v" followed by digits and dots. Anything else is no version prefix,
// so "/vabc/_ping" is an unknown path (404).
var versionSegment = regexp.MustCompile(`^v[0-9.]+$`)

type requestedVersionKey struct{}

// stripVersion removes a "/v1.NN" prefix from the path before routing, and
// records the version it named for the route handlers to check.
func (s *Server) stripVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		version, rest, ok := splitVersion(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		r2 := r.WithContext(context.WithValue(r.Context(), requestedVersionKey{}, version))
		u := *r.URL
		u.Path = rest
		if u.RawPath != "" {
			if _, rawRest, ok := splitVersion(u.RawPath); ok {
				u.RawPath = rawRest
			} else {
				u.RawPath = ""
			}
		}
		r2.URL = &u
		r2.RequestURI = u.RequestURI()
		next.ServeHTTP(w, r2)
	})
}

// splitVersion splits "/v1.47/containers/json" into "1.47" and
// "/containers/json".
func splitVersion(path string) (version, rest string, ok bool) {
	p, found := strings.CutPrefix(path, "/")
	if !found {
		return "", "", false
	}
	seg, rest, _ := strings.Cut(p, "/")
	if !versionSegment.MatchString(seg) {
		return "", "", false
	}
	return seg[1:], "/" + rest, true
}

// commonHeaders sets the headers Docker sends with every response.
func (s *Server) commonHeaders(next http.Handler) http.Handler {
	server := fmt.Sprintf("Berth/%s (linux)", s.version)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Api-Version", DefaultAPIVersion)
		h.Set("Docker-Experimental", "false")
		h.Set("Ostype", "linux")
		h.Set("Server", server)
		next.ServeHTTP(w, r)
	})
}

// checkVersion validates the API version a request asked for.
func checkVersion(version string) error {
	if versions.LessThan(version, MinAPIVersion) {
		return invalidParameter("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version",
			version, MinAPIVersion)
	}
	if versions.GreaterThan(version, DefaultAPIVersion) {
		return invalidParameter("client version %s is too new. Maximum supported API version is %s",
			version, DefaultAPIVersion)
	}
	return nil
}

// handle registers fn for pattern behind the version check and the error
// mapping.
func (s *Server) handle(pattern string, fn apiFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		version, _ := r.Context().Value(requestedVersionKey{}).(string)
		if version == "" {
			version = DefaultAPIVersion
		}
		if err := checkVersion(version); err != nil {
			s.writeError(w, r, err)
			return
		}
		r = r.WithContext(httputils.WithVersion(r.Context(), version))
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeError answers a request with err, unless the response has already
// started (a stream, or a hijacked connection), in which case it can only be
// logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if rec, ok := w.(*responseRecorder); ok && (rec.wroteHeader || rec.hijacked) {
		s.log.Error("error after the response started", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
		return
	}
	code := httputils.WriteError(w, err)
	if code >= http.StatusInternalServerError {
		s.log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", code), slog.Any("error", err))
	}
}

// notFound answers any path and method without a route, as Docker does.
func (s *Server) notFound(w http.ResponseWriter, _ *http.Request) {
	_ = httputils.WriteJSON(w, http.StatusNotFound, common.ErrorResponse{Message: "page not found"})
}

// logRequests logs every request at debug level once it is answered.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &responseRecorder{ResponseWriter: w, status: http.StatusOK}
		path := r.URL.Path
		runtrace.Mark("api begin", r.Method, path)
		next.ServeHTTP(rec, r)
		runtrace.Mark("api end", r.Method, path)
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "api request",
			slog.String("method", r.Method),
			slog.String("path", path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)))
	})
}

// responseRecorder remembers the status of a response and whether it has
// started, while keeping the Flusher and Hijacker of the writer it wraps.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	hijacked    bool
}

func (rec *responseRecorder) WriteHeader(code int) {
	if !rec.wroteHeader {
		rec.status = code
		rec.wroteHeader = code >= 200 // 1xx are informational
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *responseRecorder) Write(p []byte) (int, error) {
	rec.wroteHeader = true
	return rec.ResponseWriter.Write(p)
}

func (rec *responseRecorder) Flush() {
	rec.wroteHeader = true
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

func (rec *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(rec.ResponseWriter).Hijack()
	if err == nil {
		rec.hijacked = true
		rec.status = http.StatusSwitchingProtocols
	}
	return conn, brw, err
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (rec *responseRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
