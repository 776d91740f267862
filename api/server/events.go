package server

import (
	"encoding/json"
	"net/http"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"
)

// eventJSON is an event on the wire: Docker still sends the legacy
// "status", "id" and "from" fields, which docker-py and compose 1.x read.
type eventJSON struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	eventtypes.Message
}

func legacyEvent(m eventtypes.Message) eventJSON {
	e := eventJSON{Message: m}
	switch m.Type {
	case eventtypes.ContainerEventType:
		e.Status, e.ID, e.From = string(m.Action), m.Actor.ID, m.Actor.Attributes["image"]
	case eventtypes.ImageEventType:
		e.Status, e.ID = string(m.Action), m.Actor.ID
	}
	return e
}

// getEvents streams the daemon's events as a sequence of JSON objects,
// until the client leaves, "until" is reached, or the server shuts down.
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
	filters, err := parseFilters(q.Get("filters"))
	if err != nil {
		return err
	}
	ctx, cancel := s.streamContext(r.Context())
	defer cancel()

	past, live, unsubscribe, err := s.backend.Events(ctx, since, until, filters)
	if err != nil {
		return err
	}
	defer unsubscribe()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	enc := json.NewEncoder(w)
	for _, m := range past {
		if err := enc.Encode(legacyEvent(m)); err != nil {
			return nil // the client left
		}
	}
	_ = rc.Flush()

	if !until.IsZero() && !until.After(time.Now()) {
		return nil
	}
	var timeout <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timeout:
			return nil
		case m, ok := <-live:
			if !ok {
				return nil
			}
			if !until.IsZero() && m.TimeNano > until.UnixNano() {
				return nil
			}
			if err := enc.Encode(legacyEvent(m)); err != nil {
				return nil
			}
			_ = rc.Flush()
		}
	}
}
