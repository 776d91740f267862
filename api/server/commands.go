package server

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/plugin"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/berth-project/berth/api/types/backend"
)

// registerCommandRoutes declares Docker's everyday commands beyond the
// container lifecycle: rename, diff, export, commit, history, save, the
// prunes and disk usage, and the answers for what Berth does not have.
func (s *Server) registerCommandRoutes() {
	s.handle("POST /containers/{name}/rename", s.postContainerRename)
	s.handle("GET /containers/{name}/changes", s.getContainerChanges)
	s.handle("GET /containers/{name}/export", s.getContainerExport)
	s.handle("POST /containers/prune", s.postContainersPrune)
	s.handle("POST /commit", s.postCommit)
	s.handle("POST /images/prune", s.postImagesPrune)
	s.handle("POST /volumes/prune", s.postVolumesPrune)
	s.handle("GET /system/df", s.getSystemDiskUsage)
	s.handle("GET /plugins", s.getPlugins)

	// Features Berth does not have.
	for _, p := range []string{"POST /build", "POST /build/prune", "GET /build/", "POST /build/cancel"} {
		s.handle(p, unsupported("building images is not supported by Berth: build with another tool and load the image (docker save | berth load)"))
	}
	s.handle("POST /session", unsupported("sessions (BuildKit) are not supported by Berth"))
	s.handle("GET /distribution/{name...}", unsupported("registries are not supported by Berth: load or import images"))
	for _, p := range []string{"/plugins/", "GET /plugins/privileges", "POST /plugins/pull", "POST /plugins/create"} {
		s.handle(p, unsupported("plugins are not supported by Berth"))
	}

	// Swarm: Berth is a node that is not part of a swarm, and never a
	// manager; SDKs read the 503 as "no swarm here".
	s.handle("POST /swarm/init", unsupported("swarm mode is not supported by Berth"))
	s.handle("POST /swarm/join", unsupported("swarm mode is not supported by Berth"))
	s.handle("POST /swarm/leave", func(http.ResponseWriter, *http.Request) error { return errNoSwarm })
	for _, p := range []string{"/swarm", "/swarm/", "/nodes", "/nodes/", "/services", "/services/", "/tasks", "/tasks/", "/secrets", "/secrets/", "/configs", "/configs/"} {
		s.handle(p, func(http.ResponseWriter, *http.Request) error { return errNoManager })
	}
}

// Docker's errors of a node outside a swarm (daemon/cluster/errors.go).
var (
	errNoSwarm   = errdefs.ErrUnavailable.WithMessage("This node is not part of a swarm")
	errNoManager = errdefs.ErrUnavailable.WithMessage(`This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`)
)

// unsupported answers 501 with msg.
func unsupported(msg string) func(http.ResponseWriter, *http.Request) error {
	return func(http.ResponseWriter, *http.Request) error { return notImplemented("%s", msg) }
}

func (s *Server) postContainerRename(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("name")
	if len(name) > maxContainerName {
		return invalidParameter("Invalid container name: %d characters, the limit is %d", len(name), maxContainerName)
	}
	// The daemon checks the name's characters after finding the
	// container, as Docker does (a missing container is a 404 first).
	if err := s.backend.ContainerRename(r.Context(), r.PathValue("name"), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getContainerChanges(w http.ResponseWriter, r *http.Request) error {
	changes, err := s.backend.ContainerChanges(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if changes == nil {
		changes = []containertypes.FilesystemChange{}
	}
	return httputils.WriteJSON(w, http.StatusOK, changes)
}

func (s *Server) getContainerExport(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.backend.ContainerExport(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	_, err = io.Copy(w, rc)
	return err
}

func (s *Server) postCommit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var cfg containertypes.Config
	hasCfg := true
	if err := httputils.ReadJSON(r, &cfg); err != nil {
		if !errors.Is(err, httputils.ErrEmptyBody) {
			return err
		}
		hasCfg = false
	}
	ref, err := repoTagReference(q.Get("repo"), q.Get("tag"))
	if err != nil {
		return err
	}
	opts := backend.CommitOptions{
		Ref:     ref,
		Comment: q.Get("comment"),
		Author:  q.Get("author"),
		Changes: q["changes"],
		Pause:   httputils.BoolValueOrDefault(r, "pause", true),
	}
	if hasCfg {
		opts.Config = &cfg
	}
	id, err := s.backend.ContainerCommit(r.Context(), q.Get("container"), opts)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusCreated, map[string]string{"Id": id})
}

func (s *Server) postContainersPrune(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	rep, err := s.backend.ContainersPrune(r.Context(), filters)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, rep)
}

func (s *Server) postImagesPrune(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	rep, err := s.backend.ImagesPrune(r.Context(), filters)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, rep)
}

// postVolumesPrune prunes unused volumes: from API 1.42 only anonymous
// ones unless the "all" filter is true; before, all of them.
func (s *Server) postVolumesPrune(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	if versions.LessThan(httputils.VersionFromContext(r.Context()), "1.42") {
		if _, ok := filters["all"]; ok {
			return invalidParameter("Invalid filter 'all'")
		}
		if filters == nil {
			filters = Filters{}
		}
		filters["all"] = []string{"true"}
	}
	rep, err := s.backend.VolumesPrune(r.Context(), filters)
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, rep)
}

func (s *Server) getSystemDiskUsage(w http.ResponseWriter, r *http.Request) error {
	du, err := s.backend.SystemDiskUsage(r.Context())
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, du)
}

// getPlugins lists no plugins: Berth has none.
func (s *Server) getPlugins(w http.ResponseWriter, r *http.Request) error {
	return httputils.WriteJSON(w, http.StatusOK, plugin.ListResponse{})
}

// getImagesSave serves GET /images/get?names=... and GET
// /images/{name}/get: a docker-save archive. Nothing is written before
// the backend has resolved every name, so an unknown one is still a 404.
func (s *Server) getImagesSave(w http.ResponseWriter, r *http.Request, names []string) error {
	if len(names) == 0 {
		return invalidParameter("no images to save: give at least one name")
	}
	lw := &lazyWriter{w: w, header: func() {
		w.Header().Set("Content-Type", "application/x-tar")
		w.WriteHeader(http.StatusOK)
	}}
	err := s.backend.ImageSave(r.Context(), names, lw)
	if err != nil && lw.started {
		// The archive has begun: cut it short, the client sees a broken tar.
		s.log.Warn("image save failed", "err", err)
		return nil
	}
	return err
}

// lazyWriter writes the response header before its first byte.
type lazyWriter struct {
	w       io.Writer
	header  func()
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.header()
	}
	return l.w.Write(p)
}

// getImageHistory serves GET /images/{name}/history.
func (s *Server) getImageHistory(w http.ResponseWriter, r *http.Request, name string) error {
	h, err := s.backend.ImageHistory(r.Context(), name)
	if err != nil {
		return err
	}
	if h == nil {
		h = []image.HistoryResponseItem{}
	}
	return httputils.WriteJSON(w, http.StatusOK, h)
}

// imageAction splits /images/{name}/{action} for the GET actions.
func imageAction(full string) (name, action string) {
	for _, a := range []string{"json", "history", "get"} {
		if n, ok := strings.CutSuffix(full, "/"+a); ok && n != "" {
			return n, a
		}
	}
	return full, ""
}
