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
	forEachCLI(t, tg, func(t *testing.T, c cli) {
		// Foreground run: output, exit codes, stdin.
		assert.Equal(t, c.ok(t, "run", "--rm", "busybox", "echo", "hello"), "hello\n")
		c.fails(t, 7, "", "run", "--rm", "busybox", "sh", "-c", "exit 7")
		res := c.runIn(t, "line one\nline two\n", "run", "-i", "--rm", "busybox", "cat")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, res.Stdout, "line one\nline two\n")
		res = c.run(t, "run", "--rm", "busybox", "sh", "-c", "echo to-out; echo to-err >&2")
		assert.Equal(t, res.Stdout, "to-out\n")
		assert.Check(t, is.Contains(res.Stderr, "to-err\n"))

		// Errors: Docker's exit codes (125 daemon, 127 command not found).
		c.fails(t, 127, `exec: "nosuchcmd": executable file not found in $PATH`, "run", "--rm", "busybox", "nosuchcmd")
		res = c.fails(t, 125, "Unable to find image 'nosuch-image:1' locally", "run", "--rm", "nosuch-image:1")
		if !tg.IsDocker() {
			assert.Check(t, is.Contains(res.Stderr, "pulling images is not supported by berth"))
		}
		c.fails(t, 125, "unknown flag: --no-such-flag", "run", "--no-such-flag", "busybox")
		c.fails(t, 1, "No such container: "+c.name("nosuch"), "rm", c.name("nosuch"))
		c.fails(t, 1, "No such object: "+c.name("nosuch"), "inspect", c.name("nosuch"))

		// Detached: ps with --format and filters, inspect.
		sleeper := c.runDetached(t, "sleeper")
		assert.Equal(t, c.ok(t, "ps", "--filter", "name="+sleeper, "--format", "{{.Names}} {{.Image}} {{.Command}}"), sleeper+` busybox "sleep 300"`+"\n")
		status := c.ok(t, "ps", "--filter", "name="+sleeper, "--format", "{{.Status}}")
		assert.Check(t, strings.HasPrefix(status, "Up "), status)
		assert.Equal(t, c.inspect(t, "{{.State.Running}} {{.Config.Image}} {{.Name}}", sleeper), "true busybox /"+sleeper)
		id := c.inspect(t, "{{.Id}}", sleeper)
		assert.Equal(t, c.ok(t, "ps", "-q", "--no-trunc", "--filter", "id="+id), id+"\n")

		// stop (sleep as pid 1 ignores SIGTERM: killed after the timeout),
		// then ps -a with a status filter.
		assert.Equal(t, c.ok(t, "stop", "-t", "1", sleeper), sleeper+"\n")
		assert.Equal(t, c.inspect(t, "{{.State.Status}} {{.State.ExitCode}}", sleeper), "exited 137")
		assert.Check(t, is.Contains(c.ok(t, "ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}"), sleeper+"\n"))
		assert.Check(t, !strings.Contains(c.ok(t, "ps", "--format", "{{.Names}}"), sleeper))

		// restart, kill, rm -f.
		assert.Equal(t, c.ok(t, "restart", "-t", "1", sleeper), sleeper+"\n")
		assert.Equal(t, c.inspect(t, "{{.State.Running}}", sleeper), "true")
		assert.Equal(t, c.ok(t, "kill", sleeper), sleeper+"\n")
		c.waitFor(t, "{{.State.Status}} {{.State.ExitCode}}", sleeper, "exited 137")
		c.fails(t, 1, "is not running", "kill", sleeper)
		c.ok(t, "start", sleeper)
		assert.Equal(t, c.ok(t, "rm", "-f", sleeper), sleeper+"\n")
		c.fails(t, 1, "No such container", "rm", sleeper)

		// logs -f follows until the container exits; wait prints the code.
		logger := c.runDetached(t, "logger", "busybox", "sh", "-c", "echo one; sleep 1; echo two >&2; exit 3")
		res = c.run(t, "logs", "-f", logger)
		assert.Equal(t, res.Stdout, "one\n")
		assert.Equal(t, res.Stderr, "two\n")
		assert.Equal(t, c.ok(t, "wait", logger), "3\n")
		assert.Equal(t, c.ok(t, "logs", "--tail", "1", logger), "")

		// create, then start -a.
		created := c.name("created")
		out := strings.TrimSpace(c.ok(t, "create", "--name", created, "busybox", "echo", "created-out"))
		assert.Check(t, regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(out), out)
		assert.Equal(t, c.inspect(t, "{{.State.Status}}", created), "created")
		assert.Equal(t, c.ok(t, "start", "-a", created), "created-out\n")
		c.fails(t, 4, "", "run", "--name", c.name("code"), "busybox", "sh", "-c", "exit 4")
		assert.Equal(t, c.inspect(t, "{{.State.ExitCode}}", c.name("code")), "4")

		// --rm removes the container once it exits.
		c.ok(t, "run", "--rm", "--name", c.name("gone"), "busybox", "true")
		c.fails(t, 1, "No such object", "inspect", c.name("gone"))
	})
}

// TestDockerCLIReadOnlyExamples runs the examples as written.
func TestDockerCLIReadOnlyExamples(t *testing.T) {
	tg := harness.NewTarget(t)
	forEachCLI(t, tg, func(t *testing.T, c cli) {
		// The image's command is sh: without stdin it exits 0 at once.
		id := strings.TrimSpace(c.ok(t, "run", "-d", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp", "busybox"))
		c.waitFor(t, "{{.State.Status}} {{.State.ExitCode}}", id, "exited 0")
		assert.Equal(t, c.inspect(t, "{{.HostConfig.ReadonlyRootfs}} {{json .HostConfig.Tmpfs}}", id), `true {"/run":"","/tmp":""}`)

		ro := c.runDetached(t, "ro", "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp:size=1m", "busybox", "sleep", "300")
		mounts := c.ok(t, "exec", ro, "cat", "/proc/mounts")
		assert.Check(t, regexp.MustCompile(`(?m)^tmpfs /run tmpfs rw,nosuid,nodev,noexec`).MatchString(mounts), mounts)
		assert.Check(t, regexp.MustCompile(`(?m)^tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k`).MatchString(mounts), mounts)
		if !tg.IsDocker() {
			// Berth copies the image's content onto a tmpfs (copy-up);
			// Docker mounts it empty.
			assert.Equal(t, c.ok(t, "exec", ro, "cat", "/tmp/seed.txt"), "image-tmp\n")
		}
		c.fails(t, 1, "Read-only file system", "exec", ro, "touch", "/newfile")
		c.ok(t, "rm", "-f", ro)
	})
}

// TestDockerCLIImagesAndVolumes drives images, load, import, tag, rmi,
// volume, version and info.
func TestDockerCLIImagesAndVolumes(t *testing.T) {
	tg := harness.NewTarget(t)
	rootfs := filepath.Join(t.TempDir(), "rootfs.tar")
	assert.NilError(t, os.WriteFile(rootfs, harness.Tar(t, append(harness.BusyboxRootfs(t),
		harness.TarEntry{Name: "hello", Mode: 0o644, Body: "imported\n"})), 0o600))
	forEachCLI(t, tg, func(t *testing.T, c cli) {
		assert.Check(t, is.Contains(c.ok(t, "load", "-i", harness.TestImage(t)), "Loaded image: busybox:latest"))
		assert.Check(t, is.Contains(c.ok(t, "images", "--format", "{{.Repository}}:{{.Tag}}"), "busybox:latest\n"))
		busyboxID := strings.TrimSpace(c.ok(t, "images", "-q", "busybox"))
		assert.Check(t, len(busyboxID) == 12, busyboxID)

		tag := c.prefix + "/busy:v1"
		c.ok(t, "tag", "busybox", tag)
		assert.Equal(t, strings.TrimSpace(c.ok(t, "images", "-q", tag)), busyboxID)
		assert.Equal(t, c.ok(t, "rmi", tag), "Untagged: "+tag+"\n")
		c.fails(t, 1, "No such image: "+tag, "rmi", tag)

		imported := c.prefix + "-imported:v1"
		out := c.ok(t, "import", rootfs, imported)
		assert.Check(t, regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(out), out)
		assert.Equal(t, c.ok(t, "run", "--rm", imported, "/bin/busybox", "cat", "/hello"), "imported\n")
		assert.Check(t, is.Contains(c.ok(t, "rmi", imported), "Untagged: "+imported))

		vol := c.name("vol")
		assert.Equal(t, c.ok(t, "volume", "create", vol), vol+"\n")
		assert.Check(t, is.Contains(c.ok(t, "volume", "ls", "--format", "{{.Name}} {{.Driver}}"), vol+" local\n"))
		c.ok(t, "run", "--rm", "-v", vol+":/data", "busybox", "sh", "-c", "echo kept > /data/f")
		assert.Equal(t, c.ok(t, "run", "--rm", "-v", vol+":/data:ro", "busybox", "cat", "/data/f"), "kept\n")
		assert.Equal(t, strings.TrimSpace(c.ok(t, "volume", "inspect", "--format", "{{.Name}} {{.Driver}}", vol)), vol+" local")
		assert.Equal(t, c.ok(t, "volume", "rm", vol), vol+"\n")
		res := c.run(t, "volume", "inspect", vol)
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Check(t, is.Contains(strings.ToLower(res.Stderr), "no such volume"))

		version := c.ok(t, "version", "--format", "{{.Server.APIVersion}}")
		assert.Check(t, regexp.MustCompile(`^1\.\d+\n$`).MatchString(version), version)
		info := c.ok(t, "info", "--format", "{{.OSType}} {{.Driver}} {{.LoggingDriver}}")
		assert.Equal(t, info, "linux overlay2 json-file\n")
	})
}
