package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"gotest.tools/v3/assert"
)

func parse(t *testing.T, file string, args ...string) (Config, error) {
	t.Helper()
	c := Defaults()
	c.ConfigFile = filepath.Join(t.TempDir(), "absent.json")
	if file != "" {
		c.ConfigFile = filepath.Join(t.TempDir(), "daemon.json")
		assert.NilError(t, os.WriteFile(c.ConfigFile, []byte(file), 0o600))
	}
	fs := pflag.NewFlagSet("berthd", pflag.ContinueOnError)
	c.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.Load(fs); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestFlagsWinOverFile(t *testing.T) {
	t.Parallel()
	c, err := parse(t, `{"data-root":"/srv/b","default-runtime":"crun","tmpfs-copyup":false,"max-tmpfs-size":"1g"}`, "--data-root", "/x")
	assert.NilError(t, err)
	assert.Equal(t, c.DataRoot, "/x")
	assert.Equal(t, c.Runtime, "crun")
	assert.Equal(t, c.TmpfsCopyUp, false)
	assert.Equal(t, c.MaxTmpfsSize, "1g")
	assert.Equal(t, c.SocketPath(), "/run/berth.sock")
}

func TestDefaultsWithoutFile(t *testing.T) {
	t.Parallel()
	c, err := parse(t, "")
	assert.NilError(t, err)
	assert.Equal(t, c.TmpfsCopyUp, true)
	assert.Equal(t, c.ShmSize(), int64(64<<20))
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	_, err := parse(t, `{"nope":1}`)
	assert.ErrorContains(t, err, "unknown field")
	_, err = parse(t, `{}`, "--max-tmpfs-size", "lots")
	assert.ErrorContains(t, err, `max-tmpfs-size: invalid size "lots"`)
	_, err = parse(t, `{}`, "-H", "tcp://0.0.0.0:2375")
	assert.ErrorContains(t, err, "only unix:// sockets")
}

func TestSeccompProfileKey(t *testing.T) {
	t.Parallel()
	c, err := parse(t, `{"seccomp-profile":"/etc/berth/seccomp.json"}`)
	assert.NilError(t, err)
	assert.Equal(t, c.SeccompProfile, "/etc/berth/seccomp.json")
	c, err = parse(t, `{"seccomp-profile":"/etc/berth/seccomp.json"}`, "--seccomp-profile", "unconfined")
	assert.NilError(t, err)
	assert.Equal(t, c.SeccompProfile, "unconfined")
}

func TestLogAndInitKeys(t *testing.T) {
	t.Parallel()
	c, err := parse(t, `{"log-driver":"local","log-opts":{"max-size":"1m"},"init":true,"init-path":"/opt/tini"}`)
	assert.NilError(t, err)
	assert.Equal(t, c.LogDriver, "local")
	assert.DeepEqual(t, c.LogOpts, map[string]string{"max-size": "1m"})
	assert.Equal(t, c.Init, true)
	assert.Equal(t, c.InitPath, "/opt/tini")
	c, err = parse(t, `{"log-driver":"local","init":true}`, "--log-driver", "none", "--init=false", "--log-opt", "a=b")
	assert.NilError(t, err)
	assert.Equal(t, c.LogDriver, "none")
	assert.Equal(t, c.Init, false)
	assert.DeepEqual(t, c.LogOpts, map[string]string{"a": "b"})
}

func TestProductionKeys(t *testing.T) {
	t.Parallel()
	c, err := parse(t, `{"read-only-default":true,"read-only-tmpfs":true}`)
	assert.NilError(t, err)
	assert.Equal(t, c.ReadOnlyDefault, true)
	assert.Equal(t, c.ReadOnlyTmpfs, true)
	c, err = parse(t, `{"read-only-default":true}`, "--read-only-default=false", "--read-only-tmpfs")
	assert.NilError(t, err)
	assert.Equal(t, c.ReadOnlyDefault, false, "the flag wins")
	assert.Equal(t, c.ReadOnlyTmpfs, true)
	c, err = parse(t, "")
	assert.NilError(t, err)
	assert.Equal(t, c.ReadOnlyDefault || c.ReadOnlyTmpfs, false)
}

func TestInsecureRegistriesKey(t *testing.T) {
	t.Parallel()
	c, err := parse(t, `{"insecure-registries":["myreg:5000","10.0.0.0/8"],"registry-mirrors":["https://m.example"]}`)
	assert.NilError(t, err)
	assert.DeepEqual(t, c.InsecureRegistries, []string{"myreg:5000", "10.0.0.0/8"})
	assert.DeepEqual(t, c.RegistryMirrors, []string{"https://m.example"})
	c, err = parse(t, `{"insecure-registries":["myreg:5000"]}`, "--insecure-registry", "a:1", "--insecure-registry", "b:2")
	assert.NilError(t, err)
	assert.DeepEqual(t, c.InsecureRegistries, []string{"a:1", "b:2"})
	c, err = parse(t, `{"registry-certs-dirs":["/srv/certs.d"]}`)
	assert.NilError(t, err)
	assert.DeepEqual(t, c.RegistryCertsDirs, []string{"/srv/certs.d"})
	assert.NilError(t, c.Validate())
	_, err = parse(t, "", "--registry-certs-dir", "relative/certs.d")
	assert.ErrorContains(t, err, `registry-certs-dir: "relative/certs.d" is not an absolute path`)
}
