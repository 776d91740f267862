package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/berth-project/berth/api/types/backend"
)

// ExecBackend runs commands in running containers (docker exec). A
// backend that implements it gets the /exec routes.
type ExecBackend interface {
	ContainerExecCreate(ctx context.Context, name string, req *containertypes.ExecCreateRequest) (string, error)
	// ContainerExecStart blocks until an attached session ends; detached,
	// it returns once the process runs.
	ContainerExecStart(ctx context.Context, id string, opts backend.ExecStartOptions) error
	ContainerExecInspect(ctx context.Context, id string) (*containertypes.ExecInspectResponse, error)
	ContainerExecResize(ctx context.Context, id string, height, width uint) error
}

// ProcessBackend pauses containers and reports on their processes (docker
// pause, unpause, top, stats).
type ProcessBackend interface {
	ContainerPause(ctx context.Context, name string) error
	ContainerUnpause(ctx context.Context, name string) error
	ContainerTop(ctx context.Context, name, psArgs string) (*containertypes.TopResponse, error)
	// ContainerStats calls emit for each sample; see backend.StatsOptions.
	ContainerStats(ctx context.Context, name string, opts backend.StatsOptions, emit func(*containertypes.StatsResponse) error) error
}

// registerExecRoutes declares the exec and process endpoints.
func (s *Server) registerExecRoutes() {
	s.handle("POST /containers/{name}/exec", s.postContainerExecCreate)
	s.handle("POST /exec/{id}/start", s.postExecStart)
	s.handle("GET /exec/{id}/json", s.getExecInspect)
	s.handle("POST /exec/{id}/resize", s.postExecResize)
	s.handle("POST /containers/{name}/pause", s.postContainerPause)
	s.handle("POST /containers/{name}/unpause", s.postContainerUnpause)
	s.handle("GET /containers/{name}/top", s.getContainerTop)
	s.handle("GET /containers/{name}/stats", s.getContainerStats)
}

func (s *Server) execBackend() (ExecBackend, error) {
	b, ok := s.backend.(ExecBackend)
	if !ok {
		return nil, notImplemented("exec is not supported by this daemon")
	}
	return b, nil
}

func (s *Server) processBackend() (ProcessBackend, error) {
	b, ok := s.backend.(ProcessBackend)
	if !ok {
		return nil, notImplemented("this operation is not supported by this daemon")
	}
	return b, nil
}

func (s *Server) postContainerExecCreate(w http.ResponseWriter, r *http.Request) error {
	b, err := s.execBackend()
	if err != nil {
		return err
	}
	var req containertypes.ExecCreateRequest
	if err := httputils.ReadJSON(r, &req); err != nil {
		if errors.Is(err, httputils.ErrEmptyBody) {
			return invalidParameter("No exec command specified")
		}
		return err
	}
	if len(req.Cmd) == 0 {
		return invalidParameter("No exec command specified")
	}
	if req.ConsoleSize != nil && !req.Tty {
		return invalidParameter("console size is only supported when TTY is enabled")
	}
	id, err := b.ContainerExecCreate(r.Context(), r.PathValue("name"), &req)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, containertypes.ExecCreateResponse{ID: id})
}

// postExecStart starts an exec instance. Detached, it answers 200 with an
// empty body; attached, it hijacks the connection as attach does.
func (s *Server) postExecStart(w http.ResponseWriter, r *http.Request) error {
	b, err := s.execBackend()
	if err != nil {
		return err
	}
	var req containertypes.ExecStartRequest
	if err := httputils.ReadJSON(r, &req); err != nil && !errors.Is(err, httputils.ErrEmptyBody) {
		return err
	}
	if req.ConsoleSize != nil && !req.Tty {
		return invalidParameter("console size is only supported when TTY is enabled")
	}
	id := r.PathValue("id")
	if req.Detach {
		if err := b.ContainerExecStart(r.Context(), id, backend.ExecStartOptions{Detach: true, ConsoleSize: req.ConsoleSize}); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		return nil
	}

	ctx, cancel := s.streamContext(r.Context())
	defer cancel()
	sess := &attachSession{
		w:       w,
		upgrade: r.Header.Get("Upgrade") != "",
		muxType: httputils.VersionAtLeast(httputils.VersionFromContext(r.Context()), "1.42"),
		ctx:     ctx,
		cancel:  cancel,
		log:     s.log.With(slog.String("exec", id)),
	}
	err = b.ContainerExecStart(ctx, id, backend.ExecStartOptions{
		ConsoleSize: req.ConsoleSize,
		GetStreams: func(tty, stdin bool) (AttachStreams, error) {
			sess.useIn = stdin
			return sess.getStreams(tty)
		},
	})
	return sess.end(err, "exec "+id)
}

func (s *Server) getExecInspect(w http.ResponseWriter, r *http.Request) error {
	b, err := s.execBackend()
	if err != nil {
		return err
	}
	resp, err := b.ContainerExecInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) postExecResize(w http.ResponseWriter, r *http.Request) error {
	b, err := s.execBackend()
	if err != nil {
		return err
	}
	h, err := httputils.UintValue(r, "h")
	if err != nil {
		return err
	}
	wd, err := httputils.UintValue(r, "w")
	if err != nil {
		return err
	}
	if err := b.ContainerExecResize(r.Context(), r.PathValue("id"), h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) postContainerPause(w http.ResponseWriter, r *http.Request) error {
	b, err := s.processBackend()
	if err != nil {
		return err
	}
	if err := b.ContainerPause(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postContainerUnpause(w http.ResponseWriter, r *http.Request) error {
	b, err := s.processBackend()
	if err != nil {
		return err
	}
	if err := b.ContainerUnpause(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getContainerTop(w http.ResponseWriter, r *http.Request) error {
	b, err := s.processBackend()
	if err != nil {
		return err
	}
	resp, err := b.ContainerTop(r.Context(), r.PathValue("name"), strings.TrimSpace(r.URL.Query().Get("ps_args")))
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}

// getContainerStats writes one JSON document per sample: a single one
// with stream=0, else one a second until the client goes away.
func (s *Server) getContainerStats(w http.ResponseWriter, r *http.Request) error {
	b, err := s.processBackend()
	if err != nil {
		return err
	}
	opts := backend.StatsOptions{
		Stream:  httputils.BoolValueOrDefault(r, "stream", true),
		OneShot: httputils.BoolValue(r, "one-shot"),
	}
	if opts.OneShot && opts.Stream {
		return invalidParameter("cannot have stream=true and one-shot=true")
	}
	ctx, cancel := s.streamContext(r.Context())
	defer cancel()
	started := false
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	err = b.ContainerStats(ctx, r.PathValue("name"), opts, func(st *containertypes.StatsResponse) error {
		if !started {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		if err := enc.Encode(st); err != nil {
			return err
		}
		return rc.Flush()
	})
	if err != nil && started {
		// The stream has begun: the client went away or the sample failed.
		s.log.Debug("stats stream ended", slog.Any("error", err))
		return nil
	}
	return err
}
