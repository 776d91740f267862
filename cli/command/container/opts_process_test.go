package container

import (
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestParseProcessOptions(t *testing.T) {
	cc, err := parseArgs(t, "--health-cmd", "test -e /ok", "--health-interval", "1s", "--health-timeout", "2s",
		"--health-retries", "4", "--health-start-period", "3s", "--health-start-interval", "500ms",
		"--init", "--group-add", "audio", "--group-add", "1234", "--log-driver", "json-file",
		"--log-opt", "max-size=1k", "--log-opt", "max-file=2", "busybox")
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(cc.Config.Healthcheck, &containertypes.HealthConfig{
		Test: []string{"CMD-SHELL", "test -e /ok"}, Interval: time.Second, Timeout: 2 * time.Second,
		StartPeriod: 3 * time.Second, StartInterval: 500 * time.Millisecond, Retries: 4,
	}))
	hc := cc.HostConfig
	assert.Check(t, hc.Init != nil && *hc.Init)
	assert.Check(t, is.DeepEqual(hc.GroupAdd, []string{"audio", "1234"}))
	assert.Check(t, is.DeepEqual(hc.LogConfig, containertypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1k", "max-file": "2"}}))

	cc, err = parseArgs(t, "--no-healthcheck", "--init=false", "busybox")
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(cc.Config.Healthcheck.Test, []string{"NONE"}))
	assert.Check(t, cc.HostConfig.Init != nil && !*cc.HostConfig.Init)

	cc, err = parseArgs(t, "busybox")
	assert.NilError(t, err)
	assert.Check(t, cc.Config.Healthcheck == nil && cc.HostConfig.Init == nil)
}

func TestParseProcessOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--no-healthcheck", "--health-cmd", "x"}, "--no-healthcheck conflicts with --health-* options"},
		{[]string{"--health-interval", "-1s"}, "--health-interval cannot be negative"},
		{[]string{"--health-retries", "-1"}, "--health-retries cannot be negative"},
		{[]string{"--log-opt", "novalue"}, `invalid key value pair format in log-opt: "novalue"`},
	} {
		_, err := parseArgs(t, append(tc.args, "busybox")...)
		assert.Check(t, is.ErrorContains(err, tc.want), "%v", tc.args)
	}
}
