package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/berth-project/berth/api/types/backend"
)

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

func (s *Server) postContainerExecCreate(w http.ResponseWriter, r *http.Request) error {
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
	id, err := s.backend.ContainerExecCreate(r.Context(), r.PathValue("name"), &req)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, containertypes.ExecCreateResponse{ID: id})
}

// postExecStart starts an exec instance. Detached, it answers 200 with an
// empty body; attached, it hijacks the connection as attach does.
func (s *Server) postExecStart(w http.ResponseWriter, r *http.Request) error {
	var req containertypes.ExecStartRequest
	if err := httputils.ReadJSON(r, &req); err != nil && !errors.Is(err, httputils.ErrEmptyBody) {
		return err
	}
	if req.ConsoleSize != nil && !req.Tty {
		return invalidParameter("console size is only supported when TTY is enabled")
	}
	id := r.PathValue("id")
	if req.Detach {
		if err := s.backend.ContainerExecStart(r.Context(), id, backend.ExecStartOptions{Detach: true, ConsoleSize: req.ConsoleSize}); err != nil {
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
		muxType: versions.GreaterThanOrEqualTo(httputils.VersionFromContext(r.Context()), "1.42"),
		ctx:     ctx,
		cancel:  cancel,
		log:     s.log.With(slog.String("exec", id)),
	}
	err := s.backend.ContainerExecStart(ctx, id, backend.ExecStartOptions{
		ConsoleSize: req.ConsoleSize,
		// As in Docker, the start request's Tty, not the exec's, says
		// whether the output is multiplexed: SDKs parse what they asked for.
		GetStreams: func(_, stdin bool) (AttachStreams, error) {
			sess.useIn = stdin
			return sess.getStreams(req.Tty)
		},
	})
	return sess.end(err, "exec "+id)
}

func (s *Server) getExecInspect(w http.ResponseWriter, r *http.Request) error {
	resp, err := s.backend.ContainerExecInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) postExecResize(w http.ResponseWriter, r *http.Request) error {
	h, err := httputils.UintValue(r, "h")
	if err != nil {
		return err
	}
	wd, err := httputils.UintValue(r, "w")
	if err != nil {
		return err
	}
	if err := s.backend.ContainerExecResize(r.Context(), r.PathValue("id"), h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) postContainerPause(w http.ResponseWriter, r *http.Request) error {
	if err := s.backend.ContainerPause(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postContainerUnpause(w http.ResponseWriter, r *http.Request) error {
	if err := s.backend.ContainerUnpause(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getContainerTop(w http.ResponseWriter, r *http.Request) error {
	resp, err := s.backend.ContainerTop(r.Context(), r.PathValue("name"), strings.TrimSpace(r.URL.Query().Get("ps_args")))
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, resp)
}

// getContainerStats writes one JSON document per sample: a single one
// with stream=0, else one a second until the client goes away.
func (s *Server) getContainerStats(w http.ResponseWriter, r *http.Request) error {
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
	err := s.backend.ContainerStats(ctx, r.PathValue("name"), opts, func(st *containertypes.StatsResponse) error {
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
