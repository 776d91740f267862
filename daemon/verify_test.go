package daemon

import (
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestVerifyConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cfg    containertypes.Config
		err    string
		wantWD string
	}{
		{name: "empty"},
		{name: "env", cfg: containertypes.Config{Env: []string{"A=1", "B=", "C"}}},
		{name: "env without name", cfg: containertypes.Config{Env: []string{"A=1", "=foo"}}, err: "invalid environment variable: =foo"},
		{name: "empty env entry", cfg: containertypes.Config{Env: []string{""}}, err: "invalid environment variable: "},
		{name: "workdir cleaned", cfg: containertypes.Config{WorkingDir: "/srv//app/../data/"}, wantWD: "/srv/data"},
		{name: "relative workdir", cfg: containertypes.Config{WorkingDir: "srv"}, err: "the working directory 'srv' is invalid, it needs to be an absolute path"},
		{name: "stop signal", cfg: containertypes.Config{StopSignal: "SIGUSR1"}},
		{name: "bad stop signal", cfg: containertypes.Config{StopSignal: "SIGNOPE"}, err: "invalid signal: SIGNOPE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := verifyConfig(&tc.cfg)
			if tc.err != "" {
				assert.Check(t, errdefs.IsInvalidArgument(err))
				assert.Check(t, is.ErrorContains(err, tc.err))
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, tc.cfg.WorkingDir, tc.wantWD)
		})
	}
}

func TestParseRuntimeVersion(t *testing.T) {
	t.Parallel()
	v, c := parseRuntimeVersion("runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\n")
	assert.Equal(t, v, "1.1.5+ds1")
	assert.Equal(t, c, "1.1.5+ds1-1+deb12u1")
	v, c = parseRuntimeVersion("crun version 1.8.1\ncommit: f8a096be\nrundir: /run/crun\nspec: 1.0.0\n")
	assert.Equal(t, v, "1.8.1")
	assert.Equal(t, c, "f8a096be")
	v, c = parseRuntimeVersion("garbage")
	assert.Equal(t, v+c, "")
}
