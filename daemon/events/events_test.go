package events

import (
	"testing"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"
	"gotest.tools/v3/assert"
)

func containerEvent(action, id, name string, labels map[string]string) eventtypes.Message {
	attrs := map[string]string{"name": name, "image": "busybox:latest"}
	for k, v := range labels {
		attrs[k] = v
	}
	return eventtypes.Message{Type: eventtypes.ContainerEventType, Action: eventtypes.Action(action), Actor: eventtypes.Actor{ID: id, Attributes: attrs}, Scope: "local"}
}

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	start := containerEvent("start", "abc123", "web", map[string]string{"com.docker.compose.project": "p1"})
	health := containerEvent("health_status: healthy", "abc123", "web", nil)
	connect := eventtypes.Message{Type: eventtypes.NetworkEventType, Action: "connect", Scope: "local",
		Actor: eventtypes.Actor{ID: "net1", Attributes: map[string]string{"name": "p1_default", "container": "abc123"}}}
	img := eventtypes.Message{Type: eventtypes.ImageEventType, Action: "tag", Scope: "local",
		Actor: eventtypes.Actor{ID: "sha256:ffff", Attributes: map[string]string{"name": "busybox:latest"}}}
	mount := eventtypes.Message{Type: eventtypes.VolumeEventType, Action: eventtypes.ActionMount, Scope: "local",
		Actor: eventtypes.Actor{ID: "data", Attributes: map[string]string{"driver": "local", "container": "abc123",
			"destination": "/data", "read/write": "true", "propagation": ""}}}
	tests := []struct {
		name   string
		filter Filter
		msg    eventtypes.Message
		want   bool
	}{
		{"no filter", nil, start, true},
		{"type match", Filter{"type": {"container"}}, start, true},
		{"type mismatch", Filter{"type": {"image"}}, start, false},
		{"event match", Filter{"event": {"die", "start"}}, start, true},
		{"event mismatch", Filter{"event": {"die"}}, start, false},
		{"event prefix before colon", Filter{"event": {"health_status"}}, health, true},
		{"container by id prefix", Filter{"container": {"abc"}}, start, true},
		{"container by name", Filter{"container": {"web"}}, start, true},
		{"container other", Filter{"container": {"db"}}, start, false},
		{"container filter on connect event", Filter{"container": {"abc123"}}, connect, true},
		{"container filter excludes image event", Filter{"container": {"abc123"}}, img, false},
		{"network by name", Filter{"network": {"p1_default"}}, connect, true},
		{"label key", Filter{"label": {"com.docker.compose.project"}}, start, true},
		{"label key=value", Filter{"label": {"com.docker.compose.project=p1"}}, start, true},
		{"label wrong value", Filter{"label": {"com.docker.compose.project=p2"}}, start, false},
		{"all labels required", Filter{"label": {"com.docker.compose.project=p1", "x"}}, start, false},
		{"image of container", Filter{"image": {"busybox"}}, start, true},
		{"image event by name", Filter{"image": {"busybox"}}, img, true},
		{"image event by id", Filter{"image": {"sha256:ff"}}, img, true},
		{"scope", Filter{"scope": {"swarm"}}, start, false},
		{"volume mount by type and event", Filter{"type": {"volume"}, "event": {"mount"}}, mount, true},
		{"volume mount is not unmount", Filter{"event": {"unmount"}}, mount, false},
		{"volume mount by volume name", Filter{"volume": {"data"}}, mount, true},
		{"volume mount of another volume", Filter{"volume": {"logs"}}, mount, false},
		{"volume filter excludes container event", Filter{"volume": {"data"}}, start, false},
		{"container filter on volume mount", Filter{"container": {"abc123"}}, mount, true},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.filter.Match(tc.msg), tc.want, tc.name)
	}
}

func TestFilterValidate(t *testing.T) {
	t.Parallel()
	assert.NilError(t, Filter{"type": {"container", "network"}, "label": {"a=b"}}.Validate())
	assert.ErrorContains(t, Filter{"bogus": {"x"}}.Validate(), "invalid filter 'bogus'")
	assert.ErrorContains(t, Filter{"type": {"ship"}}.Validate(), "invalid filter: 'type'='ship'")
}

func TestBusPublishSubscribe(t *testing.T) {
	t.Parallel()
	b := New()
	b.Publish(containerEvent("create", "old", "old", nil))
	since := time.Now()
	time.Sleep(time.Millisecond)
	b.Publish(containerEvent("create", "c1", "one", nil))
	b.Publish(containerEvent("start", "c1", "one", nil))

	past, live, cancel := b.Subscribe(since, Filter{"event": {"start"}})
	assert.Equal(t, len(past), 1)
	assert.Equal(t, past[0].Actor.ID, "c1")
	assert.Equal(t, past[0].Scope, "local")
	assert.Assert(t, past[0].TimeNano >= since.UnixNano())

	b.Publish(containerEvent("die", "c1", "one", nil))
	b.Publish(containerEvent("start", "c2", "two", nil))
	select {
	case m := <-live:
		assert.Equal(t, m.Actor.ID, "c2")
	case <-time.After(time.Second):
		t.Fatal("no event delivered")
	}
	cancel()
	_, ok := <-live
	assert.Assert(t, !ok, "channel closed after cancel")
	cancel() // idempotent

	// No since: no past events.
	past, _, cancel = b.Subscribe(time.Time{}, nil)
	defer cancel()
	assert.Equal(t, len(past), 0)
}

func TestBusHistoryBounded(t *testing.T) {
	t.Parallel()
	b := New()
	for i := 0; i < history+10; i++ {
		b.Publish(containerEvent("create", "c", "n", nil))
	}
	past, _, cancel := b.Subscribe(time.Unix(1, 0), nil)
	defer cancel()
	assert.Equal(t, len(past), history)
}
