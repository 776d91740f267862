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

// TestEventsVolumeMount follows Docker's volume mount and unmount events
// through a run: one mount per volume at start (before the container's
// start event) with where and how it is mounted, one unmount per volume
// when it ends (before die), a pair again for a start that fails after
// the volumes are mounted, and the docker CLI's type, volume and event
// filters select them.
func TestEventsVolumeMount(t *testing.T) {
	d := harness.NewWithImage(t)
	c := d.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	stream := c.Events(ctx, client.EventsListOptions{
		Since:   fmt.Sprintf("%d.%09d", start.Unix(), start.Nanosecond()),
		Filters: make(client.Filters).Add("type", "volume"),
	})

	d.OK(t, "volume", "create", "evdata")
	d.OK(t, "volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=1m", "evmem")
	id := d.OK(t, "run", "-d", "--name", "evm", "-v", "evdata:/data", "-v", "evmem:/mem:ro", "busybox", "sleep", "300")
	d.OK(t, "kill", "evm")
	d.WaitState(t, "evm", "exited")
	// The command does not exist: the start fails once the volumes are
	// mounted, and they are unmounted again.
	res := d.Berth(t, "run", "-d", "--name", "evbad", "-v", "evdata:/data", "busybox", "/nosuch")
	assert.Assert(t, res.ExitCode != 0, res.Combined())
	badID := d.OK(t, "inspect", "-f", "{{.Id}}", "evbad")

	var got []events.Message
	unmounts := 0
	for unmounts < 3 {
		select {
		case m := <-stream.Messages:
			got = append(got, m)
			if m.Action == events.ActionUnmount {
				unmounts++
			}
		case err := <-stream.Err:
			t.Fatalf("event stream ended: %v (got %v)", err, got)
		case <-ctx.Done():
			t.Fatalf("timed out; got %v", got)
		}
	}
	var seq []string
	attrs := map[string]map[string]string{}
	for _, m := range got {
		assert.Equal(t, m.Type, events.VolumeEventType)
		assert.Equal(t, m.Actor.Attributes["driver"], "local")
		seq = append(seq, string(m.Action)+" "+m.Actor.ID)
		if m.Action == events.ActionMount || m.Action == events.ActionUnmount {
			attrs[string(m.Action)+" "+m.Actor.ID+" "+m.Actor.Attributes["container"]] = m.Actor.Attributes
		}
	}
	assert.DeepEqual(t, seq, []string{
		"create evdata", "create evmem",
		"mount evdata", "mount evmem", "unmount evdata", "unmount evmem",
		"mount evdata", "unmount evdata",
	})
	assert.DeepEqual(t, attrs["mount evdata "+id], map[string]string{
		"driver": "local", "container": id, "destination": "/data", "read/write": "true", "propagation": "",
	})
	assert.DeepEqual(t, attrs["mount evmem "+id], map[string]string{
		"driver": "local", "container": id, "destination": "/mem", "read/write": "false", "propagation": "",
	})
	assert.DeepEqual(t, attrs["unmount evmem "+id], map[string]string{"driver": "local", "container": id})
	assert.DeepEqual(t, attrs["mount evdata "+badID]["container"], badID)
	assert.DeepEqual(t, attrs["unmount evdata "+badID], map[string]string{"driver": "local", "container": badID})

	// The docker CLI's filters, and the order against the container's
	// own events: mounts before start, unmounts before die.
	window := []string{"events", "--since", fmt.Sprint(start.Unix() - 1), "--until", fmt.Sprint(time.Now().Add(time.Second).Unix())}
	res = d.Docker(t, harness.DockerCLI, append(window, "--filter", "type=volume", "--filter", "volume=evmem", "--filter", "event=mount",
		"--format", `{{.Actor.ID}} {{.Actor.Attributes.destination}} {{index .Actor.Attributes "read/write"}} {{.Actor.Attributes.container}}`)...)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, res.Stdout, "evmem /mem false "+id+"\n")
	res = d.Docker(t, harness.DockerCLI, append(window, "--filter", "type=volume", "--filter", "type=container",
		"--filter", "event=mount", "--filter", "event=unmount", "--filter", "event=start", "--filter", "event=die",
		"--format", "{{.Type}} {{.Action}} {{.Actor.ID}}")...)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	assert.DeepEqual(t, lines[:6], []string{
		"volume mount evdata", "volume mount evmem", "container start " + id,
		"volume unmount evdata", "volume unmount evmem", "container die " + id,
	})
	// The failed start: mounted, then unmounted again.
	assert.DeepEqual(t, lines[6:8], []string{"volume mount evdata", "volume unmount evdata"})
}
