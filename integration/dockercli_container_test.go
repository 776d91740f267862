package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestDockerCLIContainerLifecycle drives the container commands of both
// docker CLIs: run (foreground, -d, --rm, -i), create, start -a, stop,
// kill, restart, rm -f, ps with --format and filters, inspect, logs -f and
// wait, with Docker's outputs and exit codes.
func TestDockerCLIContainerLifecycle(t *testing.T) {
	tg := harness.NewTarget(t)
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		// Foreground run: output, exit codes, stdin.
		assert.Equal(t, c.OK(t, "run", "--rm", "busybox", "echo", "hello"), "hello\n")
		c.Fails(t, 7, "", "run", "--rm", "busybox", "sh", "-c", "exit 7")
		res := c.RunIn(t, "line one\nline two\n", "run", "-i", "--rm", "busybox", "cat")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "line one\nline two\n")
		res = c.Run(t, "run", "--rm", "busybox", "sh", "-c", "echo to-out; echo to-err >&2")
		assert.Equal(t, res.Stdout, "to-out\n")
		assert.Check(t, is.Contains(res.Stderr, "to-err\n"))

		// Errors: Docker's exit codes (125 daemon, 127 command not found).
		c.Fails(t, 127, `exec: "nosuchcmd": executable file not found in $PATH`, "run", "--rm", "busybox", "nosuchcmd")
		// --pull never: the default would pull from Docker Hub.
		c.Fails(t, 125, "No such image: nosuch-image:1", "run", "--rm", "--pull", "never", "nosuch-image:1")
		c.Fails(t, 125, "unknown flag: --no-such-flag", "run", "--no-such-flag", "busybox")
		c.Fails(t, 1, "No such container: "+c.Name("nosuch"), "rm", c.Name("nosuch"))
		c.Fails(t, 1, "No such object: "+c.Name("nosuch"), "inspect", c.Name("nosuch"))

		// Detached: ps with --format and filters, inspect.
		sleeper := c.RunDetached(t, "sleeper")
		assert.Equal(t, c.OK(t, "ps", "--filter", "name="+sleeper, "--format", "{{.Names}} {{.Image}} {{.Command}}"), sleeper+` busybox "sleep 300"`+"\n")
		status := c.OK(t, "ps", "--filter", "name="+sleeper, "--format", "{{.Status}}")
		assert.Check(t, strings.HasPrefix(status, "Up "), status)
		assert.Equal(t, c.Inspect(t, sleeper, "{{.State.Running}} {{.Config.Image}} {{.Name}}"), "true busybox /"+sleeper)
		id := c.Inspect(t, sleeper, "{{.Id}}")
		assert.Equal(t, c.OK(t, "ps", "-q", "--no-trunc", "--filter", "id="+id), id+"\n")

		// stop (sleep as pid 1 ignores SIGTERM: killed after the timeout),
		// then ps -a with a status filter.
		assert.Equal(t, c.OK(t, "stop", "-t", "1", sleeper), sleeper+"\n")
		assert.Equal(t, c.Inspect(t, sleeper, "{{.State.Status}} {{.State.ExitCode}}"), "exited 137")
		assert.Check(t, is.Contains(c.OK(t, "ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}"), sleeper+"\n"))
		assert.Check(t, !strings.Contains(c.OK(t, "ps", "--format", "{{.Names}}"), sleeper))

		// restart, kill, rm -f.
		assert.Equal(t, c.OK(t, "restart", "-t", "1", sleeper), sleeper+"\n")
		assert.Equal(t, c.Inspect(t, sleeper, "{{.State.Running}}"), "true")
		assert.Equal(t, c.OK(t, "kill", sleeper), sleeper+"\n")
		c.WaitFor(t, sleeper, "{{.State.Status}} {{.State.ExitCode}}", "exited 137")
		c.Fails(t, 1, "is not running", "kill", sleeper)
		c.OK(t, "start", sleeper)
		assert.Equal(t, c.OK(t, "rm", "-f", sleeper), sleeper+"\n")
		c.Fails(t, 1, "No such container", "rm", sleeper)

		// logs -f follows until the container exits; wait prints the code.
		logger := c.RunDetached(t, "logger", "busybox", "sh", "-c", "echo one; sleep 1; echo two >&2; exit 3")
		res = c.Run(t, "logs", "-f", logger)
		assert.Equal(t, res.Stdout, "one\n")
		assert.Equal(t, res.Stderr, "two\n")
		assert.Equal(t, c.OK(t, "wait", logger), "3\n")
		assert.Equal(t, c.OK(t, "logs", "--tail", "1", logger), "")

		// create, then start -a.
		created := c.Name("created")
		out := strings.TrimSpace(c.OK(t, "create", "--name", created, "busybox", "echo", "created-out"))
		assert.Check(t, regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(out), out)
		assert.Equal(t, c.Inspect(t, created, "{{.State.Status}}"), "created")
		assert.Equal(t, c.OK(t, "start", "-a", created), "created-out\n")
		c.Fails(t, 4, "", "run", "--name", c.Name("code"), "busybox", "sh", "-c", "exit 4")
		assert.Equal(t, c.Inspect(t, c.Name("code"), "{{.State.ExitCode}}"), "4")

		// --rm removes the container once it exits.
		c.OK(t, "run", "--rm", "--name", c.Name("gone"), "busybox", "true")
		c.Fails(t, 1, "No such object", "inspect", c.Name("gone"))
	})
}

// TestDockerCLIReadOnlyExamples runs the examples as written.
func TestDockerCLIReadOnlyExamples(t *testing.T) {
	tg := harness.NewTarget(t)
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		// The image's command is sh: without stdin it exits 0 at once.
		id := strings.TrimSpace(c.OK(t, "run", "-d", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp", "busybox"))
		c.WaitFor(t, id, "{{.State.Status}} {{.State.ExitCode}}", "exited 0")
		assert.Equal(t, c.Inspect(t, id, "{{.HostConfig.ReadonlyRootfs}} {{json .HostConfig.Tmpfs}}"), `true {"/run":"","/tmp":""}`)

		ro := c.RunDetached(t, "ro", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp:size=1m", "busybox", "sleep", "300")
		mounts := c.OK(t, "exec", ro, "cat", "/proc/mounts")
		assert.Check(t, regexp.MustCompile(`(?m)^tmpfs /run tmpfs rw,nosuid,nodev,noexec`).MatchString(mounts), mounts)
		assert.Check(t, regexp.MustCompile(`(?m)^tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k`).MatchString(mounts), mounts)
		if !tg.IsDocker() {
			// Berth copies the image's content onto a tmpfs (copy-up);
			// Docker mounts it empty.
			assert.Equal(t, c.OK(t, "exec", ro, "cat", "/tmp/seed.txt"), "image-tmp\n")
		}
		c.Fails(t, 1, "Read-only file system", "exec", ro, "touch", "/newfile")
		c.OK(t, "rm", "-f", ro)
	})
}

// TestDockerCLIImagesAndVolumes drives images, load, import, tag, rmi,
// volume, version and info.
func TestDockerCLIImagesAndVolumes(t *testing.T) {
	tg := harness.NewTarget(t)
	rootfs := filepath.Join(t.TempDir(), "rootfs.tar")
	assert.NilError(t, os.WriteFile(rootfs, harness.Tar(t, append(harness.BusyboxRootfs(t),
		harness.TarEntry{Name: "hello", Mode: 0o644, Body: "imported\n"})), 0o600))
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		assert.Check(t, is.Contains(c.OK(t, "load", "-i", harness.TestImage(t)), "Loaded image: busybox:latest"))
		assert.Check(t, is.Contains(c.OK(t, "images", "--format", "{{.Repository}}:{{.Tag}}"), "busybox:latest\n"))
		busyboxID := strings.TrimSpace(c.OK(t, "images", "-q", "busybox"))
		assert.Check(t, len(busyboxID) == 12, busyboxID)

		tag := c.Prefix + "/busy:v1"
		c.OK(t, "tag", "busybox", tag)
		assert.Equal(t, strings.TrimSpace(c.OK(t, "images", "-q", tag)), busyboxID)
		assert.Equal(t, c.OK(t, "rmi", tag), "Untagged: "+tag+"\n")
		c.Fails(t, 1, "No such image: "+tag, "rmi", tag)

		imported := c.Prefix + "-imported:v1"
		out := c.OK(t, "import", rootfs, imported)
		assert.Check(t, regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(out), out)
		assert.Equal(t, c.OK(t, "run", "--rm", imported, "/bin/busybox", "cat", "/hello"), "imported\n")
		assert.Check(t, is.Contains(c.OK(t, "rmi", imported), "Untagged: "+imported))

		vol := c.Name("vol")
		assert.Equal(t, c.OK(t, "volume", "create", vol), vol+"\n")
		assert.Check(t, is.Contains(c.OK(t, "volume", "ls", "--format", "{{.Name}} {{.Driver}}"), vol+" local\n"))
		c.OK(t, "run", "--rm", "-v", vol+":/data", "busybox", "sh", "-c", "echo kept > /data/f")
		assert.Equal(t, c.OK(t, "run", "--rm", "-v", vol+":/data:ro", "busybox", "cat", "/data/f"), "kept\n")
		assert.Equal(t, strings.TrimSpace(c.OK(t, "volume", "inspect", "--format", "{{.Name}} {{.Driver}}", vol)), vol+" local")
		assert.Equal(t, c.OK(t, "volume", "rm", vol), vol+"\n")
		res := c.Run(t, "volume", "inspect", vol)
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Check(t, is.Contains(strings.ToLower(res.Stderr), "no such volume"))

		version := c.OK(t, "version", "--format", "{{.Server.APIVersion}}")
		assert.Check(t, regexp.MustCompile(`^1\.\d+\n$`).MatchString(version), version)
		info := c.OK(t, "info", "--format", "{{.OSType}} {{.Driver}} {{.LoggingDriver}}")
		assert.Equal(t, info, "linux overlay2 json-file\n")
	})
}
