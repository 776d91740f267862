package runspec

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/oci"
)

func TestBuildInitAndLog(t *testing.T) {
	t.Parallel()
	d := defaults
	d.InitPath = "/usr/bin/tini-static"
	for _, tc := range []struct {
		name     string
		init     bool
		log      container.LogPolicy
		args     []string
		logPath  string
		withInit bool
	}{
		{name: "plain", args: []string{"/init", "sh"}, logPath: "/var/lib/berth/containers/c1/c1-json.log"},
		{name: "init", init: true, args: []string{"/sbin/docker-init", "--", "/init", "sh"}, withInit: true, logPath: "/var/lib/berth/containers/c1/c1-json.log"},
		{name: "rotated", log: container.LogPolicy{Driver: "json-file", MaxSize: 1000, MaxFiles: 2}, args: []string{"/init", "sh"}, logPath: "/var/lib/berth/containers/c1/c1-json.log"},
		{name: "none", log: container.LogPolicy{Driver: "none"}, args: []string{"/init", "sh"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newContainer(nil)
			c.Init, c.Log = tc.init, tc.log
			cfg, in := Build(c, d)
			assert.Check(t, is.DeepEqual(in.Args, tc.args))
			assert.Check(t, is.Equal(cfg.LogPath, tc.logPath))
			assert.Check(t, is.Equal(cfg.LogMaxSize, tc.log.MaxSize))
			assert.Check(t, is.Equal(cfg.LogMaxFiles, tc.log.MaxFiles))
			initMount := oci.Mount{Destination: "/sbin/docker-init", Type: "bind", Source: "/usr/bin/tini-static", Options: []string{"rbind", "ro", "rprivate"}}
			found := false
			for _, m := range in.Mounts {
				if m.Destination == initMount.Destination {
					assert.Check(t, is.DeepEqual(m, initMount))
					found = true
				}
			}
			assert.Check(t, is.Equal(found, tc.withInit))
		})
	}
}
