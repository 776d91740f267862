// Package server is Berth's Engine API HTTP server: it routes Docker Engine
// API requests (versioned "/v1.NN/..." and unversioned), negotiates the API
// version, decodes requests into the API's wire types, calls the daemon
// through the Backend interface, and maps error classes to Docker's status
// codes and {"message": ...} bodies.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// The API versions Berth serves. Unversioned requests use DefaultAPIVersion.
const (
	MinAPIVersion     = "1.24"
	DefaultAPIVersion = "1.47"
)

// Options configure a Server.
type Options struct {
	// Version is Berth's version, sent in the Server header.
	Version string
	// Logger receives request logs (debug level) and server-side errors; nil
	// means slog.Default().
	Logger *slog.Logger
	// ReadHeaderTimeout bounds the time a client takes to send a request's
	// headers; zero means 30 seconds.
	ReadHeaderTimeout time.Duration
}

// Server serves the Engine API for a Backend. It is an http.Handler.
type Server struct {
	backend Backend
	version string
	log     *slog.Logger
	mux     *http.ServeMux
	handler http.Handler
	srv     *http.Server

	// streams is cancelled by Shutdown to end long-running responses
	// (events, wait, followed logs, attach) that would otherwise keep
	// http.Server.Shutdown waiting.
	streams     context.Context
	stopStreams context.CancelFunc
}

// New returns a Server for backend.
func New(backend Backend, opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	headerTimeout := opts.ReadHeaderTimeout
	if headerTimeout == 0 {
		headerTimeout = 30 * time.Second
	}
	s := &Server{
		backend: backend,
		version: version,
		log:     log,
		mux:     http.NewServeMux(),
	}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	s.registerRoutes()
	s.handler = s.logRequests(s.commonHeaders(s.stripVersion(s.mux)))
	// A client gets ReadHeaderTimeout to send its request headers (a slow
	// or silent one cannot hold a connection forever) and IdleTimeout
	// between keep-alive requests. There is no ReadTimeout or WriteTimeout:
	// they would cut off image loads, archive uploads and the long-lived
	// attach, logs, events and stats streams.
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: headerTimeout,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s
}

// ServeHTTP serves one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Serve accepts connections on l until Shutdown. It may be called for
// several listeners (a unix socket and a TCP port). It returns nil after
// Shutdown.
func (s *Server) Serve(l net.Listener) error {
	if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown closes the listeners, ends streaming responses (events, wait,
// followed logs, attach sessions) and waits for the other requests to finish
// or for ctx to be done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopStreams()
	return s.srv.Shutdown(ctx)
}

// streamContext returns a context for a long-running response: it ends when
// the request's context does or when the server shuts down.
func (s *Server) streamContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.streams, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}
