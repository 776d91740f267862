package server

import (
	"net/http"
	"time"

	"github.com/berth-project/berth/api/server/httputils"
)

func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Builder-Version", "1")
	h.Set("Swarm", "inactive")
	if r.Method == http.MethodHead {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("OK"))
	return err
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) error {
	v := s.backend.SystemVersion(r.Context())
	if v.APIVersion == "" {
		v.APIVersion = DefaultAPIVersion
	}
	if v.MinAPIVersion == "" {
		v.MinAPIVersion = MinAPIVersion
	}
	return httputils.WriteJSON(w, http.StatusOK, v)
}

func (s *Server) getInfo(w http.ResponseWriter, r *http.Request) error {
	info, err := s.backend.SystemInfo(r.Context())
	if err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, info)
}

// getEvents streams the daemon's events. Berth has no event bus yet: the
// response stays open without events until the client leaves, "until" is
// reached, or the server shuts down.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	since, err := parseTimestamp(q.Get("since"))
	if err != nil {
		return err
	}
	until, err := parseTimestamp(q.Get("until"))
	if err != nil {
		return err
	}
	if !until.IsZero() && until.Before(since) {
		return invalidParameter("`since` time (%s) cannot be after `until` time (%s)", q.Get("since"), q.Get("until"))
	}
	if _, err := parseFilters(q.Get("filters")); err != nil {
		return err
	}

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()

	if !until.IsZero() && !until.After(time.Now()) {
		return nil
	}
	ctx, cancel := s.streamContext(r.Context())
	defer cancel()
	var timeout <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
	case <-timeout:
	}
	return nil
}
