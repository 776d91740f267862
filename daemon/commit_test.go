package daemon

import (
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"gotest.tools/v3/assert"
)

func TestImageConfigOfCommit(t *testing.T) {
	t.Parallel()
	port, err := network.ParsePort("80/tcp")
	assert.NilError(t, err)
	c := &containertypes.Config{
		User: "1000", Env: []string{"A=1"}, Cmd: []string{"sh"}, WorkingDir: "/w",
		Labels: map[string]string{"l": "1"}, ExposedPorts: network.PortSet{port: {}},
		Volumes: map[string]struct{}{"/v": {}}, StopSignal: "SIGINT",
		Hostname: "not-in-images", Tty: true,
	}
	cfg := imageConfigOf(c)
	assert.Equal(t, cfg.User, "1000")
	assert.DeepEqual(t, cfg.Env, []string{"A=1"})
	assert.DeepEqual(t, cfg.ExposedPorts, map[string]struct{}{"80/tcp": {}})
	assert.Equal(t, cfg.StopSignal, "SIGINT")

	// A commit request's config overrides what it sets, keeps the rest,
	// and adds labels, volumes and ports.
	mergeCommitConfig(&cfg, &containertypes.Config{Cmd: []string{"new"}, Labels: map[string]string{"m": "2"}, Volumes: map[string]struct{}{"/x": {}}})
	assert.DeepEqual(t, cfg.Cmd, []string{"new"})
	assert.Equal(t, cfg.WorkingDir, "/w")
	assert.DeepEqual(t, cfg.Labels, map[string]string{"l": "1", "m": "2"})
	assert.DeepEqual(t, cfg.Volumes, map[string]struct{}{"/v": {}, "/x": {}})
	// The container's config is not changed by the merge.
	assert.DeepEqual(t, c.Labels, map[string]string{"l": "1"})
}
