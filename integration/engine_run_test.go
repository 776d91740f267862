package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// engBerthWithin runs berth with a deadline shorter than the harness's, so
// that a hang fails fast and says so.
func engBerthWithin(t *testing.T, d *harness.Daemon, timeout time.Duration, args ...string) harness.Result {
	t.Helper()
	return harness.Run(t, harness.Command{Bin: filepath.Join(harness.Binaries(t), "berth"), Args: append([]string{"-H", d.Host()}, args...), Timeout: timeout})
}

// TestEngineRunExitCodes: berth run exits as docker run does: the
// container's status, 125 for daemon errors, 126 when the command cannot be
// executed, 127 when it is not found; --rm leaves nothing either way.
func TestEngineRunExitCodes(t *testing.T) {
	d := harness.NewWithImage(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"success", []string{"busybox", "true"}, 0, ""},
		{"exit status", []string{"busybox", "sh", "-c", "exit 3"}, 3, ""},
		{"command not found", []string{"busybox", "no-such-command"}, 127, "executable file not found"},
		{"not executable", []string{"busybox", "/etc/passwd"}, 126, "permission denied"},
		{"a directory", []string{"busybox", "/etc"}, 126, ""},
		{"unknown image", []string{"--pull", "never", "no-such-image"}, 125, "No such image"},
		{"bad flag", []string{"--no-such-flag", "busybox"}, 125, "unknown flag"},
		{"bad tmpfs", []string{"--tmpfs", "/x:size=lots", "busybox", "true"}, 125, ""},
		{"unknown user", []string{"-u", "nobody-here", "busybox", "true"}, 125, "nobody-here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rm := range []bool{false, true} {
				args := []string{"run", "--network", "none"}
				if rm {
					args = append(args, "--rm")
				}
				before := d.OK(t, "ps", "-aq")
				res := engBerthWithin(t, d, 30*time.Second, append(args, tc.args...)...)
				assert.Equal(t, res.ExitCode, tc.code, "rm=%v: %s", rm, res.Combined())
				if tc.msg != "" {
					assert.Assert(t, is.Contains(res.Stderr, tc.msg), "rm=%v", rm)
				}
				if rm || tc.code == 125 {
					assert.Equal(t, d.OK(t, "ps", "-aq"), before, "rm=%v: a container was left behind", rm)
				}
			}
		})
	}
	// The exit code of a failed start is recorded as Docker does.
	res := d.Berth(t, "run", "--name", "notfound", "--network", "none", "busybox", "no-such-command")
	assert.Equal(t, res.ExitCode, 127)
	assert.Equal(t, d.Inspect(t, "notfound", "{{.State.ExitCode}}"), "127")
	assert.Assert(t, is.Contains(d.Inspect(t, "notfound", "{{.State.Error}}"), "no-such-command"))

	// -d prints the full ID; -i feeds stdin; --rm removes after the exit.
	id := d.OK(t, "run", "-d", "--network", "none", "busybox", "true")
	assert.Equal(t, len(id), 64, id)
	assert.Equal(t, d.OK(t, "wait", id), "0")
	res = d.BerthIn(t, "one\ntwo\n", "run", "-i", "--rm", "--network", "none", "busybox", "sh", "-c", "while read l; do echo got:$l; done; echo eof >&2; exit 5")
	assert.Equal(t, res.ExitCode, 5, res.Combined())
	assert.Equal(t, res.Stdout, "got:one\ngot:two\n")
	assert.Equal(t, res.Stderr, "eof\n")
}

// TestEngineRunConfig: what a container sees of its configuration and of
// the OCI defaults: env, user, working directory, hostname, network files,
// mounts, masked paths, capabilities, /dev/shm.
func TestEngineRunConfig(t *testing.T) {
	d := harness.NewWithImage(t)
	run := func(args ...string) string {
		t.Helper()
		return d.OK(t, append([]string{"run", "--rm", "--network", "none"}, args...)...)
	}

	t.Run("env", func(t *testing.T) {
		envFile := filepath.Join(t.TempDir(), "env")
		assert.NilError(t, os.WriteFile(envFile, []byte("# comment\nFROM_FILE=yes\nOVERRIDE=file\n"), 0o644))
		os.Setenv("ENG_PASSED", "through")
		defer os.Unsetenv("ENG_PASSED")
		out := run("--hostname", "box", "-e", "A=1", "--env-file", envFile, "-e", "OVERRIDE=flag", "-e", "ENG_PASSED", "busybox", "env")
		env := map[string]string{}
		for _, l := range strings.Split(out, "\n") {
			k, v, _ := strings.Cut(l, "=")
			env[k] = v
		}
		assert.Equal(t, env["PATH"], "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
		assert.Equal(t, env["HOSTNAME"], "box")
		assert.Equal(t, env["HOME"], "/root")
		assert.Equal(t, env["A"], "1")
		assert.Equal(t, env["FROM_FILE"], "yes")
		assert.Equal(t, env["OVERRIDE"], "flag")
		assert.Equal(t, env["ENG_PASSED"], "through")
	})

	t.Run("user and working directory", func(t *testing.T) {
		assert.Assert(t, is.Contains(run("busybox", "id"), "uid=0(root) gid=0(root)"))
		assert.Assert(t, is.Contains(run("-u", "app", "busybox", "sh", "-c", "id; echo $HOME"), "uid=1000(app) gid=1000(app)"))
		assert.Equal(t, run("-u", "app", "busybox", "sh", "-c", "echo $HOME"), "/home/app")
		assert.Equal(t, run("-u", "1000:0", "busybox", "id", "-u"), "1000")
		assert.Equal(t, run("-u", "1000:0", "busybox", "id", "-g"), "0")
		assert.Equal(t, run("-u", "app:nogroup", "busybox", "id", "-g"), "65534")
		assert.Equal(t, run("-u", "4242", "busybox", "sh", "-c", "id -u; echo $HOME"), "4242\n/")
		assert.Equal(t, run("-w", "/run/app", "busybox", "pwd"), "/run/app")
		assert.Equal(t, run("-w", "/does/not/exist", "busybox", "pwd"), "/does/not/exist")
		assert.Equal(t, run("--entrypoint", "echo", "busybox", "from", "entrypoint"), "from entrypoint")
		assert.Equal(t, run("--entrypoint", "pwd", "-w", "/tmp", "busybox"), "/tmp")
	})

	t.Run("hostname and network files", func(t *testing.T) {
		id := d.OK(t, "run", "-d", "--network", "none", "busybox", "sh", "-c", "hostname; cat /etc/hostname; grep -c localhost /etc/hosts; test -f /etc/resolv.conf && echo resolv")
		d.OK(t, "wait", id)
		assert.Equal(t, d.OK(t, "logs", id), id[:12]+"\n"+id[:12]+"\n2\nresolv")
		out := run("--hostname", "web.example", "busybox", "sh", "-c", "hostname; grep web.example /etc/hosts | wc -l")
		assert.Equal(t, out, "web.example\n1")
		// each container has its own files
		run("--hostname", "one", "busybox", "sh", "-c", "echo changed > /etc/hostname")
		assert.Equal(t, run("--hostname", "two", "busybox", "cat", "/etc/hostname"), "two")
	})

	t.Run("mounts, masked paths, capabilities", func(t *testing.T) {
		out := run("busybox", "cat", "/proc/self/mountinfo")
		mounts := map[string]string{}
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) > 9 {
				// mount point -> fstype + mount options + super options
				mounts[f[4]] = f[len(f)-3] + " " + f[5] + " " + f[len(f)-1]
			}
		}
		for dir, fstype := range map[string]string{"/": "overlay", "/proc": "proc", "/dev": "tmpfs", "/dev/pts": "devpts",
			"/dev/shm": "tmpfs", "/dev/mqueue": "mqueue", "/sys": "sysfs", "/etc/hosts": "", "/etc/hostname": "", "/etc/resolv.conf": ""} {
			m, ok := mounts[dir]
			assert.Assert(t, ok, "no mount at %s:\n%s", dir, out)
			assert.Assert(t, strings.HasPrefix(m, fstype), "%s: %s", dir, m)
		}
		assert.Assert(t, is.Contains(mounts["/dev/shm"], "size=65536k"))
		assert.Assert(t, is.Contains(mounts["/sys"], "ro"))
		// (this kernel has no /proc/kcore or /proc/sysrq-trigger to mask)
		for _, masked := range []string{"/proc/acpi", "/proc/keys", "/proc/timer_list", "/proc/sys", "/proc/bus", "/sys/firmware"} {
			_, ok := mounts[masked]
			assert.Assert(t, ok, "%s is not masked:\n%s", masked, out)
		}
		assert.Equal(t, run("busybox", "sh", "-c", "grep CapEff /proc/self/status | cut -f2"), "00000000a80425fb", "Docker's default capabilities")
		assert.Equal(t, run("--cap-drop", "ALL", "busybox", "sh", "-c", "grep CapEff /proc/self/status | cut -f2"), "0000000000000000")
		assert.Equal(t, run("--shm-size", "16m", "busybox", "sh", "-c", "df -k /dev/shm | tail -n 1 | awk '{print $2}'"), "16384")
		res := d.Berth(t, "run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo x > /proc/sys/kernel/domainname")
		assert.Assert(t, res.ExitCode != 0, "/proc/sys must be read-only: %s", res.Combined())
		// a tmpfs gets the default flags
		out = run("--tmpfs", "/scratch", "busybox", "grep", " /scratch ", "/proc/self/mountinfo")
		for _, flag := range []string{"nosuid", "nodev", "noexec"} {
			assert.Assert(t, is.Contains(out, flag), out)
		}
	})

	t.Run("labels, runtime and inspect", func(t *testing.T) {
		d.OK(t, "create", "--name", "labelled", "--network", "none", "--label", "a=b", "-l", "c", "--runtime", "runc", "busybox", "true")
		assert.Equal(t, d.Inspect(t, "labelled", "{{.Config.Labels.a}}|{{index .Config.Labels \"c\"}}|{{.HostConfig.Runtime}}|{{.Name}}|{{.State.Status}}"), "b||runc|/labelled|created")
		assert.Equal(t, d.OK(t, "ps", "-a", "--filter", "label=a=b", "--format", "{{.Names}}"), "labelled")
		res := d.Berth(t, "create", "--network", "none", "--runtime", "no-such-runtime", "busybox", "true")
		assert.Equal(t, res.ExitCode, 125, res.Combined())
	})
}

// TestEngineRootfs: a container writes to its own overlay layer, which
// outlives a restart; --read-only has no writable layer at all.
func TestEngineRootfs(t *testing.T) {
	d := harness.NewWithImage(t)
	d.OK(t, "create", "--name", "rw", "--network", "none", "busybox", "sh", "-c", "echo run >> /etc/motd; cat /etc/motd")
	res := d.Berth(t, "start", "-a", "rw")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, res.Stdout, "Berth test image\nrun\n")
	res = d.Berth(t, "start", "-a", "rw")
	assert.Equal(t, res.Stdout, "Berth test image\nrun\nrun\n", "the writable layer outlives a restart")
	assert.Equal(t, d.OK(t, "run", "--rm", "--network", "none", "busybox", "cat", "/etc/motd"), "Berth test image", "another container sees the image unchanged")

	res = d.Berth(t, "run", "--rm", "--network", "none", "--read-only", "busybox", "touch", "/newfile")
	assert.Equal(t, res.ExitCode, 1)
	assert.Assert(t, is.Contains(res.Stderr, "Read-only file system"))
	for _, f := range []string{"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"} {
		res = d.Berth(t, "run", "--rm", "--network", "none", "--read-only", "busybox", "sh", "-c", "echo x >> "+f)
		assert.Assert(t, is.Contains(res.Stderr, "Read-only file system"), "%s: %s", f, res.Combined())
	}
	out := d.OK(t, "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp", "busybox", "sh", "-c", "echo ok > /tmp/f; cat /tmp/f")
	assert.Equal(t, out, "ok")
	d.OK(t, "create", "--name", "ro", "--network", "none", "--read-only", "busybox", "true")
	id := d.Inspect(t, "ro", "{{.Id}}")
	entries, err := os.ReadDir(filepath.Join(d.DataRoot, "containers", id))
	assert.NilError(t, err)
	for _, e := range entries {
		assert.Assert(t, e.Name() != "upper" && e.Name() != "diff", "a read-only container has a writable layer: %s", e.Name())
	}
	assert.Equal(t, d.Inspect(t, "ro", "{{.HostConfig.ReadonlyRootfs}}"), "true")
}

// TestEngineNetworkModes: none has its own network namespace with loopback
// only, the default (bridge) adds eth0, host shares the host's.
func TestEngineNetworkModes(t *testing.T) {
	d := harness.NewWithImage(t)
	ifaces := func(args ...string) []string {
		out := d.OK(t, append(append([]string{"run", "--rm"}, args...), "busybox", "sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1")...)
		var names []string
		for _, f := range strings.Fields(out) {
			names = append(names, f)
		}
		return names
	}
	assert.DeepEqual(t, ifaces("--network", "none"), []string{"lo"})
	res := d.Berth(t, "create", "busybox", "true")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, !strings.Contains(res.Stderr, "WARNING"), res.Stderr)
	assert.DeepEqual(t, ifaces(), []string{"lo", "eth0"})
	assert.DeepEqual(t, ifaces("--network", "bridge"), []string{"lo", "eth0"})
	host := ifaces("--network", "host")
	assert.Assert(t, len(host) > 1, "host network: %v", host)
	hn, err := os.Hostname()
	assert.NilError(t, err)
	assert.Equal(t, d.OK(t, "run", "--rm", "--network", "host", "busybox", "hostname"), hn)
	res = d.Berth(t, "run", "--rm", "--network", "container:x", "busybox", "true")
	assert.Equal(t, res.ExitCode, 125, res.Combined())
}

// TestEngineRunOutputNotLost: docker run starts the container as soon as
// its attach is answered; the output of a container that exits at once
// must reach it every time, also when the machine is busy.
func TestEngineRunOutputNotLost(t *testing.T) {
	d := harness.NewWithImage(t)
	const workers, runs = 3, 15
	lost := make(chan string, workers*runs)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < runs; i++ {
				res := d.Berth(t, "run", "--rm", "--network", "none", "busybox", "echo", "hello")
				if res.ExitCode != 0 || res.Stdout != "hello\n" {
					lost <- res.Combined()
				}
			}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	close(lost)
	var bad []string
	for l := range lost {
		bad = append(bad, l)
	}
	assert.Equal(t, len(bad), 0, "%d of %d runs lost their output: %q", len(bad), workers*runs, bad)
}
