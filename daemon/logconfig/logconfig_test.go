package logconfig

import (
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	lc := func(typ string, kv ...string) containertypes.LogConfig {
		c := containertypes.LogConfig{Type: typ, Config: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			c.Config[kv[i]] = kv[i+1]
		}
		return c
	}
	for _, tc := range []struct {
		name    string
		in, def containertypes.LogConfig
		want    Policy
		err     string
	}{
		{name: "default", want: Policy{Driver: JSONFile, MaxFiles: 1}},
		{name: "daemon default", def: lc("local"), want: Policy{Driver: Local, MaxSize: 20 << 20, MaxFiles: 5}},
		{name: "daemon default opts", def: lc("json-file", "max-size", "1m"), want: Policy{Driver: JSONFile, MaxSize: 1000 * 1000, MaxFiles: 1}},
		{name: "request wins", in: lc("none"), def: lc("local"), want: Policy{Driver: None}},
		{name: "rotation", in: lc("json-file", "max-size", "1k", "max-file", "2"), want: Policy{Driver: JSONFile, MaxSize: 1000, MaxFiles: 2}},
		{name: "local opts", in: lc("local", "max-size", "10m", "max-file", "3"), want: Policy{Driver: Local, MaxSize: 10 * 1000 * 1000, MaxFiles: 3}},
		{name: "unknown driver", in: lc("syslog"), err: "logger: no log driver named 'syslog' is registered"},
		{name: "unknown opt", in: lc("json-file", "foo", "bar"), err: "unknown log opt 'foo' for json-file log driver"},
		{name: "opt of none", in: lc("none", "max-size", "1k"), err: "unknown log opt 'max-size' for none log driver"},
		{name: "unsupported opt", in: lc("json-file", "compress", "true"), err: "log opt 'compress' of the json-file log driver is not supported by berth"},
		{name: "bad size", in: lc("json-file", "max-size", "lots"), err: `invalid max-size "lots"`},
		{name: "zero size", in: lc("json-file", "max-size", "0"), err: "max-size must be a positive number"},
		{name: "bad files", in: lc("json-file", "max-file", "x"), err: `invalid max-file "x"`},
		{name: "zero files", in: lc("json-file", "max-file", "0"), err: "max-file cannot be less than 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Resolve(tc.in, tc.def)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func FuzzResolve(f *testing.F) {
	f.Add("json-file", "max-size", "1k")
	f.Add("local", "max-file", "3")
	f.Add("none", "x", "y")
	f.Fuzz(func(t *testing.T, typ, k, v string) {
		p, err := Resolve(containertypes.LogConfig{Type: typ, Config: map[string]string{k: v}}, containertypes.LogConfig{})
		if err != nil {
			assert.Check(t, errdefs.IsInvalidArgument(err), "%v", err)
			return
		}
		assert.Check(t, p.Driver == JSONFile || p.Driver == Local || p.Driver == None)
		assert.Check(t, p.MaxSize >= 0 && (p.Driver == None || p.MaxFiles >= 1))
	})
}
