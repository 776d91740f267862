// Package events is berthd's event bus: the daemon publishes what happens to
// containers, images, volumes and networks, and subscribers (GET /events)
// receive the events they select with Docker's filters. The bus keeps the
// most recent events so that a subscriber can ask for those since a time.
package events

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"

	"github.com/containerd/errdefs"
)

// history is how many past events the bus keeps, as many as Docker.
const history = 256

// subscriberBuffer is how many events a slow subscriber may lag behind
// before it misses events; publishing never blocks.
const subscriberBuffer = 1024

// Bus fans events out to subscribers and remembers the latest ones.
type Bus struct {
	mu   sync.Mutex // guards past and subs
	past []eventtypes.Message
	subs map[*subscriber]struct{}
}

type subscriber struct {
	filter Filter
	ch     chan eventtypes.Message
}

// New returns an empty bus.
func New() *Bus {
	return &Bus{subs: map[*subscriber]struct{}{}}
}

// Publish records m and delivers it to the subscribers whose filter
// matches. It completes the time and scope when they are unset.
func (b *Bus) Publish(m eventtypes.Message) {
	if m.TimeNano == 0 {
		now := time.Now()
		m.Time, m.TimeNano = now.Unix(), now.UnixNano()
	}
	if m.Scope == "" {
		m.Scope = "local"
	}
	if m.Actor.Attributes == nil {
		m.Actor.Attributes = map[string]string{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.past) == history {
		copy(b.past, b.past[1:])
		b.past = b.past[:history-1]
	}
	b.past = append(b.past, m)
	for s := range b.subs {
		if !s.filter.Match(m) {
			continue
		}
		select {
		case s.ch <- m:
		default: // too slow: it misses this event rather than stall the daemon
		}
	}
}

// Subscribe returns the remembered events at or after since (none when
// since is zero) that match f, and a channel of the future matching
// events. cancel ends the subscription and closes the channel.
func (b *Bus) Subscribe(since time.Time, f Filter) (past []eventtypes.Message, live <-chan eventtypes.Message, cancel func()) {
	s := &subscriber{filter: f, ch: make(chan eventtypes.Message, subscriberBuffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !since.IsZero() {
		for _, m := range b.past {
			if m.TimeNano >= since.UnixNano() && f.Match(m) {
				past = append(past, m)
			}
		}
	}
	b.subs[s] = struct{}{}
	var once sync.Once
	cancel = func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			close(s.ch)
		})
	}
	return past, s.ch, cancel
}

// Filter selects events with Docker's event filters: each term present
// must match (any of its values), terms absent match everything.
type Filter map[string][]string

var filterTerms = map[string]bool{
	"config": true, "container": true, "daemon": true, "event": true, "image": true,
	"label": true, "network": true, "node": true, "plugin": true, "scope": true,
	"secret": true, "service": true, "type": true, "volume": true,
}

// Validate rejects unknown filter terms and event types with Docker's
// messages.
func (f Filter) Validate() error {
	for term, values := range f {
		if !filterTerms[term] {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", term))
		}
		if term == "type" {
			for _, v := range values {
				switch eventtypes.Type(v) {
				case eventtypes.BuilderEventType, eventtypes.ConfigEventType, eventtypes.ContainerEventType,
					eventtypes.DaemonEventType, eventtypes.ImageEventType, eventtypes.NetworkEventType,
					eventtypes.NodeEventType, eventtypes.PluginEventType, eventtypes.SecretEventType,
					eventtypes.ServiceEventType, eventtypes.VolumeEventType:
				default:
					return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter: 'type'='%s'", v))
				}
			}
		}
		if term == "scope" {
			for _, v := range values {
				if v != "local" && v != "swarm" {
					return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter: 'scope'='%s'", v))
				}
			}
		}
	}
	return nil
}

// Match reports whether m passes every term of f.
func (f Filter) Match(m eventtypes.Message) bool {
	attrs := m.Actor.Attributes
	return f.any("type", func(v string) bool { return v == string(m.Type) }) &&
		f.any("event", func(v string) bool {
			a := string(m.Action)
			return v == a || strings.HasPrefix(a, v+":")
		}) &&
		f.any("scope", func(v string) bool { return v == m.Scope }) &&
		f.named("container", m, eventtypes.ContainerEventType) &&
		f.named("network", m, eventtypes.NetworkEventType) &&
		f.named("volume", m, eventtypes.VolumeEventType) &&
		f.any("image", func(v string) bool {
			switch m.Type {
			case eventtypes.ContainerEventType:
				return matchImage(attrs["image"], v)
			case eventtypes.ImageEventType:
				return matchImage(m.Actor.ID, v) || matchImage(attrs["name"], v)
			}
			return false
		}) &&
		f.labels(attrs)
}

func (f Filter) any(term string, match func(string) bool) bool {
	values, ok := f[term]
	if !ok || len(values) == 0 {
		return true
	}
	return slices.ContainsFunc(values, match)
}

// named matches a term naming an object (container, network, volume) by
// ID prefix or name. An event about another kind of object only passes
// when it refers to the object in its attributes (a network connect event
// names its container).
func (f Filter) named(term string, m eventtypes.Message, typ eventtypes.Type) bool {
	return f.any(term, func(v string) bool {
		if m.Type == typ {
			return strings.HasPrefix(m.Actor.ID, v) || m.Actor.Attributes["name"] == v
		}
		ref := m.Actor.Attributes[term]
		return ref != "" && strings.HasPrefix(ref, v)
	})
}

// labels requires every "label" value (key or key=value) to be among the
// actor's attributes.
func (f Filter) labels(attrs map[string]string) bool {
	for _, l := range f["label"] {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := attrs[k]
		if !ok || (hasValue && got != v) {
			return false
		}
	}
	return true
}

// matchImage compares an image reference with a filter value, letting
// "busybox" match "busybox:latest".
func matchImage(ref, v string) bool {
	if ref == "" {
		return false
	}
	if ref == v || strings.TrimSuffix(ref, ":latest") == v || strings.TrimPrefix(ref, "sha256:") == v {
		return true
	}
	return strings.HasPrefix(v, "sha256:") && strings.HasPrefix(ref, v)
}
