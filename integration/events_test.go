package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestEvents follows the event stream while a labelled container goes
// through its life, then reads the same events back with since/until and
// the docker CLI's filters.
func TestEvents(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	c := d.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()

	// Since the start: the events that happen before the subscription is
	// in place (the request is asynchronous) come from the daemon's memory.
	stream := c.Events(ctx, client.EventsListOptions{
		Since:   fmt.Sprintf("%d.%09d", start.Unix(), start.Nanosecond()),
		Filters: make(client.Filters).Add("label", "app=ev"),
	})

	res := d.Berth(t, "run", "-d", "--name", "evc", "--label", "app=ev", "busybox", "sleep", "300")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	id := strings.TrimSpace(res.Stdout)
	res = d.Berth(t, "run", "--rm", "--name", "unlabelled", "busybox", "true")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = d.Berth(t, "stop", "-t", "1", "evc")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = d.Berth(t, "rm", "evc")
	assert.Equal(t, res.ExitCode, 0, res.Combined())

	var got []events.Message
	for len(got) == 0 || got[len(got)-1].Action != events.ActionDestroy {
		select {
		case m := <-stream.Messages:
			got = append(got, m)
		case err := <-stream.Err:
			t.Fatalf("event stream ended: %v (got %v)", err, got)
		case <-ctx.Done():
			t.Fatalf("timed out; got %v", got)
		}
	}
	var actions []string
	for _, m := range got {
		assert.Equal(t, m.Type, events.ContainerEventType)
		assert.Equal(t, m.Actor.ID, id)
		assert.Equal(t, m.Actor.Attributes["name"], "evc")
		assert.Equal(t, m.Actor.Attributes["image"], "busybox")
		assert.Equal(t, m.Actor.Attributes["app"], "ev")
		assert.Equal(t, m.Scope, "local")
		assert.Assert(t, m.TimeNano >= start.UnixNano())
		actions = append(actions, string(m.Action))
	}
	// sleep as PID 1 ignores SIGTERM: stop kills it after the timeout.
	assert.DeepEqual(t, actions, []string{"create", "start", "kill", "kill", "die", "stop", "destroy"})
	assert.Equal(t, got[1].Actor.Attributes["signal"], "", "start has no signal")
	assert.Equal(t, got[2].Actor.Attributes["signal"], "15")
	assert.Equal(t, got[3].Actor.Attributes["signal"], "9")
	assert.Equal(t, got[4].Actor.Attributes["exitCode"], "137")

	// Past events with the docker CLI: since/until and filters.
	res = d.Berth(t, "volume", "create", "evvol")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = d.Docker(t, harness.DockerCLI, "network", "create", "evnet")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = d.Berth(t, "tag", "busybox", "busybox:evtag")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	until := time.Now().Add(time.Second)
	window := []string{"events", "--since", fmt.Sprint(start.Unix() - 1), "--until", fmt.Sprint(until.Unix())}
	res = d.Docker(t, harness.DockerCLI, append(window, "--filter", "container=unlabelled", "--format", "{{.Type}} {{.Action}}")...)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, res.Stdout, "container create\ncontainer attach\ncontainer start\ncontainer die\ncontainer destroy\n")
	res = d.Docker(t, harness.DockerCLI, append(window, "--filter", "type=volume", "--filter", "type=network", "--filter", "type=image", "--filter", "event=create", "--filter", "event=tag", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")...)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "volume create <no value>\n"))
	assert.Check(t, is.Contains(res.Stdout, "network create evnet\n"))
	assert.Check(t, is.Contains(res.Stdout, "image tag busybox:evtag\n"))

	res = d.Docker(t, harness.DockerCLI, "events", "--filter", "type=ship", "--until", "1")
	assert.Equal(t, res.ExitCode, 1, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "invalid filter: 'type'='ship'"))
}
