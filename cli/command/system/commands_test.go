package system

import (
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"gotest.tools/v3/assert"
)

func TestEventLine(t *testing.T) {
	t.Parallel()
	m := events.Message{
		Type: events.ContainerEventType, Action: "rename", TimeNano: 1700000000123456789,
		Actor: events.Actor{ID: "abc", Attributes: map[string]string{"oldName": "/a", "name": "b", "image": "busybox"}},
	}
	when, rest, _ := strings.Cut(eventLine(m), " ")
	assert.Equal(t, rest, "container rename abc (image=busybox, name=b, oldName=/a)")
	got, err := time.Parse(time.RFC3339Nano, when)
	assert.NilError(t, err)
	assert.Equal(t, got.UnixNano(), m.TimeNano)
}

func TestDfRow(t *testing.T) {
	t.Parallel()
	assert.DeepEqual(t, dfRowOf("Images", 3, 1, 4000000, 1000000, true), dfRow{"Images", "3", "1", "4MB", "1MB (25%)"})
	assert.DeepEqual(t, dfRowOf("Local Volumes", 0, 0, 0, 0, true), dfRow{"Local Volumes", "0", "0", "0B", "0B"})
}
