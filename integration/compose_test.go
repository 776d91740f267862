package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

const composeFile = `version: "2.4"
services:
  web:
    image: busybox:latest
    read_only: true
    tmpfs:
      - /run
      - /tmp:size=1m,mode=1777
    volumes:
      - type: tmpfs
        target: /cache
        tmpfs:
          size: 2097152
    shm_size: 16m
    environment:
      GREETING: hello
    command: ["sh", "-c", "echo $$GREETING from web; cat /proc/mounts; echo ready; exec sleep 300"]
    labels:
      com.example.role: web
  worker:
    image: busybox:latest
    read_only: true
    tmpfs: /scratch:size=512k
    command: sh -c 'echo worker up; touch /scratch/ok; exec sleep 300'
`

// compose runs docker-compose in dir against the daemon.
func compose(t *testing.T, d *harness.Daemon, dir string, args ...string) harness.Result {
	t.Helper()
	return harness.Run(t, harness.Command{Bin: harness.RequireTool(t, "docker-compose"), Args: args, Dir: dir,
		Env: []string{"DOCKER_HOST=" + d.Host(), "COMPOSE_PROJECT_NAME=bt", "COMPOSE_INTERACTIVE_NO_CLI=1"}})
}

// TestComposeReadOnlyTmpfs runs a docker-compose 1.29 project with
// read_only, tmpfs in short (string and list, with options) and long
// syntax, shm_size, environment, command and labels: up -d, ps, logs,
// stop, down, and exec last.
func TestComposeReadOnlyTmpfs(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(composeFile), 0o644))
	ctx := context.Background()
	c := d.Client(t)

	res := compose(t, d, dir, "up", "-d")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "Creating network \"bt_default\""))

	res = compose(t, d, dir, "ps")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	for _, name := range []string{"bt_web_1", "bt_worker_1"} {
		assert.Check(t, is.Regexp(name+`\s+.*\s+Up\s*`, res.Stdout))
	}

	// The containers as compose made them.
	insp, err := c.ContainerInspect(ctx, "bt_web_1", client.ContainerInspectOptions{})
	assert.NilError(t, err)
	web := insp.Container
	assert.Check(t, web.HostConfig.ReadonlyRootfs)
	assert.Check(t, is.Equal(web.HostConfig.ShmSize, int64(16<<20)))
	assert.Check(t, is.DeepEqual(web.HostConfig.Tmpfs, map[string]string{"/run": "", "/tmp": "size=1m,mode=1777"}))
	assert.Check(t, is.Len(web.HostConfig.Mounts, 1))
	assert.Check(t, is.Equal(web.HostConfig.Mounts[0].Target, "/cache"))
	assert.Check(t, is.Equal(web.Config.Labels["com.example.role"], "web"))
	assert.Check(t, is.Equal(web.Config.Labels["com.docker.compose.project"], "bt"))
	assert.Check(t, is.Equal(string(web.HostConfig.NetworkMode), "bt_default"))
	assert.Check(t, web.NetworkSettings.Networks["bt_default"] != nil)

	// logs: the service's own view of its mounts.
	var logs string
	harness.Poll(t, func() (bool, string) {
		logs = compose(t, d, dir, "logs", "--no-color", "web").Stdout
		return strings.Contains(logs, "ready"), "logs of web, without ready yet:\n" + logs
	})
	assert.Check(t, is.Contains(logs, "hello from web"))
	assert.Check(t, is.Regexp(`overlay / overlay ro[,\s]`, logs))
	// The kernel shows no mode for a tmpfs root of mode 1777.
	assert.Check(t, is.Contains(logs, "tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k 0 0"))
	assert.Check(t, is.Regexp(`tmpfs /run tmpfs rw,`, logs))
	assert.Check(t, is.Regexp(`tmpfs /cache tmpfs rw,.*size=2048k`, logs))
	assert.Check(t, is.Regexp(`shm /dev/shm tmpfs rw,.*size=16384k`, logs))
	res = compose(t, d, dir, "logs", "--no-color", "worker")
	assert.Check(t, is.Contains(res.Stdout, "worker up"))

	// The network compose created, with its labels.
	nets, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", "com.docker.compose.project=bt")})
	assert.NilError(t, err)
	assert.Check(t, is.Len(nets.Items, 1))

	// up again: nothing to recreate.
	res = compose(t, d, dir, "up", "-d")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "bt_web_1 is up-to-date"))

	res = compose(t, d, dir, "stop", "-t", "1")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	res = compose(t, d, dir, "ps")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Regexp(`bt_web_1\s+.*Exit 137`, res.Stdout))

	// Started again, the tmpfs are fresh and exec works on the read-only
	// container.
	res = compose(t, d, dir, "start")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	t.Run("exec", func(t *testing.T) {
		res := compose(t, d, dir, "exec", "-T", "web", "sh", "-c", "echo $GREETING; echo x > /tmp/x && cat /tmp/x; touch /etc/nope")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		// compose (dockerpty) prints both streams of a non-tty exec to its
		// stdout as their frames arrive; Docker keeps the order within a
		// stream but not between stdout and stderr, so touch's error may
		// come before "x". The stdout lines, without it, are in order.
		const roErr = "touch: /etc/nope: Read-only file system\n"
		assert.Check(t, is.Contains(res.Combined(), roErr))
		assert.Check(t, is.Contains(strings.Replace(res.Stdout, roErr, "", 1), "hello\nx\n"), res.Combined())
	})

	res = compose(t, d, dir, "down", "-t", "1")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	assert.NilError(t, err)
	assert.Check(t, is.Len(list.Items, 0))
	_, err = c.NetworkInspect(ctx, "bt_default", client.NetworkInspectOptions{})
	assert.Check(t, err != nil, "network removed by down")
}

// TestComposeUpForeground runs `docker-compose up` attached: compose follows
// the containers through GET /events with label filters and returns when
// they exit.
func TestComposeUpForeground(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	dir := t.TempDir()
	const file = `version: "2.4"
services:
  once:
    image: busybox:latest
    read_only: true
    tmpfs: /tmp
    command: sh -c 'echo data > /tmp/f && cat /tmp/f && exit 3'
`
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(file), 0o644))
	res := compose(t, d, dir, "up", "--no-color", "--exit-code-from", "once")
	assert.Equal(t, res.ExitCode, 3, res.Combined())
	assert.Check(t, is.Regexp(`once_1\s+\| data`, res.Stdout))
	assert.Check(t, is.Contains(res.Combined(), "bt_once_1 exited with code 3"))
	res = compose(t, d, dir, "down")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
}

const composeTmpfsVolumeFile = `version: "2.4"
services:
  writer:
    image: busybox:latest
    read_only: true
    command: sh -c 'echo from-writer > /shared/w; exec sleep 300'
    volumes: [cache:/shared]
  reader:
    image: busybox:latest
    read_only: true
    command: sleep 300
    volumes: [cache:/shared]
volumes:
  cache:
    driver: local
    driver_opts: {type: tmpfs, device: tmpfs, o: "size=1m,uid=1000"}
`

// TestComposeTmpfsVolume: a compose volume with the local driver's tmpfs
// driver_opts is shared by two read-only services, is a tmpfs of that size,
// and down -v removes it and leaves no mount.
func TestComposeTmpfsVolume(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(composeTmpfsVolumeFile), 0o644))
	res := compose(t, d, dir, "up", "-d")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, d.OK(t, "volume", "inspect", "-f", "{{json .Options}}", "bt_cache"), `{"device":"tmpfs","o":"size=1m,uid=1000","type":"tmpfs"}`)
	harness.Poll(t, func() (bool, string) {
		res := compose(t, d, dir, "exec", "-T", "reader", "cat", "/shared/w")
		return strings.TrimSpace(res.Stdout) == "from-writer", res.Combined()
	})
	res = compose(t, d, dir, "exec", "-T", "reader", "sh", "-c", "stat -f -c %T /shared; stat -c %u /shared")
	assert.Equal(t, res.Stdout, "tmpfs\n1000\n", res.Combined())
	res = compose(t, d, dir, "down", "-v", "-t", "1")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, d.OK(t, "volume", "ls", "-q"), "")
	assert.Check(t, is.Len(d.HostMounts(t), 0))
}
