package container

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/cli/command"
)

func parseArgs(t *testing.T, args ...string) (*containerConfig, error) {
	t.Helper()
	var o containerOptions
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	addContainerFlags(flags, &o)
	if err := flags.Parse(args); err != nil {
		return nil, err
	}
	return o.parse(flags, flags.Args())
}

func TestParseContainerOptions(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "env")
	assert.NilError(t, os.WriteFile(envFile, []byte("FROM_FILE=1\nOVERRIDE=file\n"), 0o600))
	labelFile := filepath.Join(t.TempDir(), "labels")
	assert.NilError(t, os.WriteFile(labelFile, []byte("a=file\nb=file\n"), 0o600))

	cc, err := parseArgs(t, "-i", "-t", "--env-file", envFile, "-e", "OVERRIDE=flag",
		"--label-file", labelFile, "-l", "a=flag", "-h", "box", "--entrypoint", "/bin/sh",
		"-v", "/anon", "-v", "/h:/c:ro", "--restart", "on-failure:2", "--stop-signal", "SIGUSR1",
		"busybox", "-c", "true")
	assert.NilError(t, err)
	c := cc.Config
	assert.Check(t, c.Tty && c.OpenStdin && c.StdinOnce && c.AttachStdin && c.AttachStdout && c.AttachStderr)
	assert.Check(t, is.DeepEqual(c.Env, []string{"FROM_FILE=1", "OVERRIDE=file", "OVERRIDE=flag"}))
	assert.Check(t, is.DeepEqual(c.Labels, map[string]string{"a": "flag", "b": "file"}))
	assert.Check(t, is.Equal(c.Hostname, "box"))
	assert.Check(t, is.DeepEqual(c.Entrypoint, []string{"/bin/sh"}))
	// Flags after the image belong to the command.
	assert.Check(t, is.DeepEqual(c.Cmd, []string{"-c", "true"}))
	assert.Check(t, is.DeepEqual(c.Volumes, map[string]struct{}{"/anon": {}}))
	assert.Check(t, is.Equal(c.StopSignal, "SIGUSR1"))
	assert.Check(t, c.StopTimeout == nil)
	hc := cc.HostConfig
	assert.Check(t, is.DeepEqual(hc.Binds, []string{"/h:/c:ro"}))
	assert.Check(t, is.Equal(string(hc.RestartPolicy.Name), "on-failure"))
	assert.Check(t, is.Equal(hc.RestartPolicy.MaximumRetryCount, 2))
	assert.Check(t, hc.Tmpfs == nil && hc.Mounts == nil)
}

func TestParseEmptyEntrypointResets(t *testing.T) {
	cc, err := parseArgs(t, "--entrypoint", "", "busybox")
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(cc.Config.Entrypoint, []string{""}))
	assert.Check(t, cc.Config.Cmd == nil)
}

func TestParseContainerOptionsErrors(t *testing.T) {
	_, err := parseArgs(t, "--restart", "bogus", "busybox")
	assert.Check(t, is.ErrorContains(err, "unknown policy 'bogus'"))
	_, err = parseArgs(t, "-e", "=x", "busybox")
	assert.Check(t, is.ErrorContains(err, "invalid environment variable"))
	_, err = parseArgs(t, "--env-file", filepath.Join(t.TempDir(), "nope"), "busybox")
	assert.Check(t, errors.Is(err, os.ErrNotExist))
	_, err = parseArgs(t, "--shm-size", "lots", "busybox")
	assert.Check(t, is.ErrorContains(err, "invalid size: 'lots'"))
}

func TestRunStatusError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  string
		code int
	}{
		{"Error response from daemon: No such image: x:latest", 125},
		{`exec: "foo": executable file not found in $PATH`, 127},
		{"exec /bin/x: no such file or directory", 127},
		{"exec /etc: permission denied", 126},
		{"exec /etc: is a directory", 126},
	}
	for _, tc := range tests {
		err := runStatusError(errors.New(tc.msg))
		assert.Check(t, is.Equal(command.ExitCode(err), tc.code), tc.msg)
		assert.Check(t, is.Equal(err.Error(), "berth: "+tc.msg+"\n\nRun 'berth run --help' for more information"))
	}
}

func TestParseSecurityFlags(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "profile.json")
	assert.NilError(t, os.WriteFile(profile, []byte("{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }\n"), 0o600))
	cc, err := parseArgs(t, "--privileged", "--cap-add", "NET_ADMIN", "--cap-drop", "ALL",
		"--security-opt", "no-new-privileges", "--security-opt", "seccomp="+profile,
		"--security-opt", "systempaths=unconfined", "busybox")
	assert.NilError(t, err)
	hc := cc.HostConfig
	assert.Check(t, hc.Privileged)
	assert.Check(t, is.DeepEqual(hc.CapAdd, []string{"NET_ADMIN"}))
	assert.Check(t, is.DeepEqual(hc.CapDrop, []string{"ALL"}))
	assert.Check(t, is.DeepEqual(hc.SecurityOpt, []string{"no-new-privileges", `seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}))
	assert.Check(t, hc.MaskedPaths != nil && len(hc.MaskedPaths) == 0)
	assert.Check(t, hc.ReadonlyPaths != nil && len(hc.ReadonlyPaths) == 0)

	_, err = parseArgs(t, "--security-opt", "seccomp="+filepath.Join(t.TempDir(), "absent.json"), "busybox")
	assert.ErrorContains(t, err, "opening seccomp profile")
}
