package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestNetworkLifecycle drives user networks with the docker CLI: create,
// list with label filters, inspect, containers on a user network, connect
// and disconnect with aliases, and removal rules.
func TestNetworkLifecycle(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	docker := func(args ...string) harness.Result {
		t.Helper()
		return d.Docker(t, harness.DockerCLI, args...)
	}

	res := docker("network", "create", "--label", "team=blue", "appnet")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	netID := strings.TrimSpace(res.Stdout)
	assert.Equal(t, len(netID), 64)

	res = docker("network", "create", "appnet")
	assert.Equal(t, res.ExitCode, 1, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "network with name appnet already exists"))

	res = docker("network", "create", "other")
	assert.Equal(t, res.ExitCode, 0, res.Combined())

	res = docker("network", "ls", "--filter", "label=team=blue", "--format", "{{.Name}} {{.Driver}} {{.Scope}}")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, res.Stdout, "appnet bridge local\n")
	res = docker("network", "ls", "--format", "{{.Name}}")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, res.Stdout, "appnet\nbridge\nhost\nnone\nother\n")
	res = docker("network", "ls", "--filter", "type=custom", "-q")
	assert.Check(t, is.Len(strings.Fields(res.Stdout), 2))

	res = docker("run", "-d", "--name", "web", "--network", "appnet", "busybox", "sleep", "300")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", "web")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	var eps map[string]network.EndpointSettings
	assert.NilError(t, json.Unmarshal([]byte(res.Stdout), &eps))
	assert.Check(t, is.Len(eps, 1))
	assert.Equal(t, eps["appnet"].NetworkID, netID)
	assert.Check(t, eps["appnet"].EndpointID != "")

	ctx := context.Background()
	insp, err := d.Client(t).NetworkInspect(ctx, "appnet", client.NetworkInspectOptions{})
	assert.NilError(t, err)
	assert.Equal(t, insp.Network.Labels["team"], "blue")
	assert.Check(t, is.Len(insp.Network.Containers, 1))
	for _, ep := range insp.Network.Containers {
		assert.Equal(t, ep.Name, "web")
	}

	res = docker("ps", "--filter", "network=appnet", "--format", "{{.Names}}")
	assert.Equal(t, res.Stdout, "web\n")

	res = docker("network", "rm", "appnet")
	assert.Equal(t, res.ExitCode, 1, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "has active endpoints"))

	res = docker("network", "connect", "--alias", "api", "other", "web")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = docker("inspect", "--format", "{{json .NetworkSettings.Networks.other.Aliases}}", "web")
	assert.Equal(t, strings.TrimSpace(res.Stdout), `["api"]`)
	res = docker("network", "connect", "other", "web")
	assert.Equal(t, res.ExitCode, 1, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "already exists in network other"))
	res = docker("network", "disconnect", "other", "web")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = docker("inspect", "--format", "{{len .NetworkSettings.Networks}}", "web")
	assert.Equal(t, strings.TrimSpace(res.Stdout), "1")

	for _, n := range []string{"bridge", "host", "none"} {
		res = docker("network", "rm", n)
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, n+" is a pre-defined network and cannot be removed"))
	}
	res = docker("network", "connect", "host", "web")
	assert.Equal(t, res.ExitCode, 1, res.Combined())

	res = docker("rm", "-f", "web")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = docker("network", "rm", "appnet", "other")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = docker("network", "inspect", "appnet")
	assert.Equal(t, res.ExitCode, 1, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "network appnet not found"))
	res = docker("run", "--rm", "--network", "appnet", "busybox", "true")
	assert.Equal(t, res.ExitCode, 125, res.Combined())

	// Networks persist across a daemon restart.
	res = docker("network", "create", "kept")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	d.Restart(t)
	res = docker("network", "inspect", "--format", "{{.Name}} {{.Driver}}", "kept")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, res.Stdout, "kept bridge\n")
}
