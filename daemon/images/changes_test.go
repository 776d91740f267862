package images

import (
	"testing"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"gotest.tools/v3/assert"
)

func TestApplyChanges(t *testing.T) {
	t.Parallel()
	cfg := func(f func(c *dockerspec.DockerOCIImageConfig)) dockerspec.DockerOCIImageConfig {
		var c dockerspec.DockerOCIImageConfig
		f(&c)
		return c
	}
	set := func(keys ...string) map[string]struct{} {
		m := map[string]struct{}{}
		for _, k := range keys {
			m[k] = struct{}{}
		}
		return m
	}
	tests := []struct {
		name    string
		changes []string
		want    dockerspec.DockerOCIImageConfig
	}{
		{"cmd exec form", []string{`CMD ["sh"]`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.Cmd = []string{"sh"} })},
		{"cmd shell form", []string{`CMD sh -c x`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.Cmd = []string{"/bin/sh", "-c", "sh -c x"} })},
		{"cmd lowercase instruction", []string{`cmd echo hi`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.Cmd = []string{"/bin/sh", "-c", "echo hi"} })},
		{"cmd broken json is shell form", []string{`CMD [sh`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.Cmd = []string{"/bin/sh", "-c", "[sh"} })},
		{"entrypoint clears cmd not set here", []string{`ENTRYPOINT ["/bin/app", "-v"]`}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.Entrypoint = []string{"/bin/app", "-v"}
		})},
		{"entrypoint keeps earlier cmd", []string{`CMD ["x"]`, `ENTRYPOINT top -b`}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.Cmd = []string{"x"}
			c.Entrypoint = []string{"/bin/sh", "-c", "top -b"}
		})},
		{"env pairs", []string{`ENV A=b C=d`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.Env = []string{"A=b", "C=d"} })},
		{"env legacy", []string{`ENV A b c`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.Env = []string{"A=b c"} })},
		{"env quotes and escapes", []string{`ENV A="hello world" B='x y' C=a\ b`}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.Env = []string{"A=hello world", "B=x y", "C=a b"}
		})},
		{"env override and expansion", []string{`ENV P=/bin`, `ENV P=/sbin:$P Q=${P}x R=${NOPE:-d} S='$P'`}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.Env = []string{"P=/sbin:/bin", "Q=/binx", "R=d", "S=$P"}
		})},
		{"user", []string{`USER app:app`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.User = "app:app" })},
		{"workdir relative joins", []string{`WORKDIR /x`, `WORKDIR y/../z`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.WorkingDir = "/x/z" })},
		{"volume list", []string{`VOLUME /data /logs`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.Volumes = set("/data", "/logs") })},
		{"volume json", []string{`VOLUME ["/a","/b"]`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.Volumes = set("/a", "/b") })},
		{"label", []string{`LABEL k=v "x y"=z`, `LABEL legacy some value`}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.Labels = map[string]string{"k": "v", "x y": "z", "legacy": "some value"}
		})},
		{"expose", []string{`EXPOSE 80 53/udp 8000-8001/TCP`}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.ExposedPorts = set("80/tcp", "53/udp", "8000/tcp", "8001/tcp")
		})},
		{"stopsignal", []string{`STOPSIGNAL SIGTERM`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.StopSignal = "SIGTERM" })},
		{"healthcheck", []string{`HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/`}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.Healthcheck = &dockerspec.HealthcheckConfig{Test: []string{"CMD-SHELL", "curl -f http://x/"}, Interval: 5 * time.Second, Retries: 3}
		})},
		{"healthcheck exec", []string{`HEALTHCHECK CMD ["true"]`}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.Healthcheck = &dockerspec.HealthcheckConfig{Test: []string{"CMD", "true"}}
		})},
		{"healthcheck none", []string{`HEALTHCHECK NONE`}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.Healthcheck = &dockerspec.HealthcheckConfig{Test: []string{"NONE"}}
		})},
		{"onbuild", []string{`ONBUILD RUN echo hi`}, cfg(func(c *dockerspec.DockerOCIImageConfig) { c.OnBuild = []string{"RUN echo hi"} })},
		{"multi-line change with continuation", []string{"# comment\nENV A=1 \\\n  B=2\n\nUSER x"}, cfg(func(c *dockerspec.DockerOCIImageConfig) {
			c.Env = []string{"A=1", "B=2"}
			c.User = "x"
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got dockerspec.DockerOCIImageConfig
			assert.NilError(t, applyChanges(&got, tc.changes))
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestApplyChangesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		change string
		err    string
	}{
		{`FROM busybox`, "from is not a valid change command"},
		{`RUN echo`, "run is not a valid change command"},
		{`BOGUS x`, "dockerfile parse error on line 1: unknown instruction: BOGUS"},
		{`ENV A`, "ENV must have two arguments"},
		{`ENV`, "ENV requires at least one argument"},
		{`ENV A=1 B`, `Syntax error - can't find = in "B". Must be of the form: name=value`},
		{`ENV =x`, "ENV names can not be blank"},
		{`ENV A="unterminated`, "ENV: unexpected end of statement while looking for matching double-quote"},
		{`CMD`, "CMD requires at least one argument"},
		{`USER`, "USER requires exactly one argument"},
		{`VOLUME [""]`, "VOLUME specified can not be an empty string"},
		{`EXPOSE 80/icmp`, "invalid proto: icmp"},
		{`EXPOSE http`, "invalid containerPort: http"},
		{`EXPOSE 70000`, "invalid containerPort: 70000"},
		{`HEALTHCHECK --interval=abc CMD true`, `HEALTHCHECK: invalid value for --interval "abc": time: invalid duration "abc"`},
		{`HEALTHCHECK --bogus=1 CMD true`, "Unknown flag: bogus"},
		{`HEALTHCHECK true`, `Unknown type "true" in HEALTHCHECK (try CMD)`},
		{`ONBUILD FROM x`, "FROM isn't allowed as an ONBUILD trigger"},
	}
	for _, tc := range tests {
		t.Run(tc.change, func(t *testing.T) {
			var c dockerspec.DockerOCIImageConfig
			err := applyChanges(&c, []string{tc.change})
			assert.Error(t, err, tc.err)
			assert.Check(t, errdefs.IsInvalidArgument(err))
		})
	}
}

func FuzzApplyChanges(f *testing.F) {
	for _, s := range []string{`CMD ["sh"]`, `ENV A="b c" D=${A:-x}`, `LABEL a b`, `EXPOSE 1-3/udp`, `HEALTHCHECK --retries=1 CMD x`, "ENV a=\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, change string) {
		var c dockerspec.DockerOCIImageConfig
		err := applyChanges(&c, []string{change})
		if err != nil && !errdefs.IsInvalidArgument(err) {
			t.Fatalf("error not classed invalid argument: %v", err)
		}
	})
}
