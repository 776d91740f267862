package integration

// The confinement a hostile container process meets, as Docker's: the
// default capability set, Docker's default seccomp profile (no user or
// mount namespaces, no mounts), masked and read-only kernel paths,
// no-new-privileges, custom seccomp profiles from a file (berth and docker
// CLIs), --privileged, and create-time refusal of bad security settings.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// secDockerDefaultCaps is Docker's default capability set as a mask:
// CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
// NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
const secDockerDefaultCaps = 0xa80425fb

// secHostCapBnd is the test's (and so the daemon's) bounding set: a
// container cannot get more (root here may lack CAP_SYS_RESOURCE).
func secHostCapBnd(t *testing.T) uint64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	assert.NilError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			assert.NilError(t, err)
			return mask
		}
	}
	t.Fatal("no CapBnd in /proc/self/status")
	return 0
}

// secStatus is the script that reports the process's confinement; r runs
// a command and prints its output and exit status on one line.
const secStatus = `
r() { out=$("$@" 2>&1); rc=$?; echo "$out rc=$rc" | tr '\n' ' '; }
echo "capeff=$(grep CapEff: /proc/self/status | cut -f2)"
echo "capbnd=$(grep CapBnd: /proc/self/status | cut -f2)"
echo "seccomp=$(grep 'Seccomp:' /proc/self/status | cut -f2)"
echo "nnp=$(grep NoNewPrivs: /proc/self/status | cut -f2)"
`

// TestSecurityDefaultConfinement checks on every runtime what a default
// container gets: Docker's capabilities, the seccomp filter, no user or
// mount namespaces and so no mounts, the masked and read-only paths; and
// that the filter is what stops the namespaces: unconfined, the same
// process can create a user namespace and mount in it.
func TestSecurityDefaultConfinement(t *testing.T) {
	d := harness.NewWithImage(t)
	wantCaps := fmt.Sprintf("%016x", secDockerDefaultCaps&secHostCapBnd(t))
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		kv := tfRunScript(t, d, rt, nil, secStatus+`
echo "unshare_user=$(r unshare -U true)"
echo "unshare_mount=$(r unshare -m true)"
echo "userns_mount=$(unshare -U -r -m sh -c 'mount -t tmpfs none /tmp && echo mounted' 2>&1 | tr '\n' ' ')"
echo "mount=$(r mount -t tmpfs none /tmp)"
for p in /proc/timer_list /proc/keys /proc/interrupts; do echo "masked_$(basename $p)=$(wc -c < $p)"; done
echo "masked_firmware=$(ls -A /sys/firmware | wc -l)"
echo "masked_acpi=$(ls -A /proc/acpi | wc -l)"
echo "ro_sys=$(w /proc/sys/kernel/hostname)"
echo "ro_mounts=$(grep -E ' /proc/(bus|fs|irq|sys|sysrq-trigger) ' /proc/mounts | awk '{print $2":"substr($4,1,2)}' | sort | tr '\n' ' ')"
`)
		t.Logf("%s default container: CapEff=%s Seccomp=%s NoNewPrivs=%s", rt, kv["capeff"], kv["seccomp"], kv["nnp"])
		tfCheck(t, kv, []tfWant{
			{Key: "capeff", Equal: wantCaps},
			{Key: "capbnd", Equal: wantCaps},
			{Key: "seccomp", Equal: "2"},
			{Key: "nnp", Equal: "0"},
			{Key: "unshare_user", Equal: "unshare: unshare(0x10000000): Operation not permitted rc=1"},
			{Key: "unshare_mount", Equal: "unshare: unshare(0x20000): Operation not permitted rc=1"},
			{Key: "userns_mount", Contains: "Operation not permitted"},
			{Key: "mount", Contains: "permission denied"},
			{Key: "masked_timer_list", Equal: "0"},
			{Key: "masked_keys", Equal: "0"},
			{Key: "masked_interrupts", Equal: "0"},
			{Key: "masked_firmware", Equal: "0"},
			{Key: "masked_acpi", Equal: "0"},
			{Key: "ro_sys", Contains: "Read-only file system"},
			{Key: "ro_mounts", Equal: "/proc/bus:ro /proc/fs:ro /proc/irq:ro /proc/sys:ro"},
		})

		// Without the filter, the same unprivileged process escapes into a
		// user namespace and mounts: the filter is what prevents it.
		kv = tfRunScript(t, d, rt, []string{"--security-opt", "seccomp=unconfined"}, secStatus+`
echo "userns_mount=$(unshare -U -r -m sh -c 'mount -t tmpfs none /tmp && echo mounted' 2>&1 | tr '\n' ' ')"
`)
		tfCheck(t, kv, []tfWant{{Key: "seccomp", Equal: "0"}, {Key: "capeff", Equal: wantCaps}, {Key: "userns_mount", Equal: "mounted"}})

		// With CAP_SYS_ADMIN and no filter, as Docker.
		kv = tfRunScript(t, d, rt, []string{"--security-opt", "seccomp=unconfined", "--cap-add", "SYS_ADMIN"}, secStatus+`
echo "unshare_user=$(r unshare -U true)"
echo "unshare_mount=$(r unshare -m true)"
echo "mount=$(r mount -t tmpfs none /tmp)"
`)
		tfCheck(t, kv, []tfWant{{Key: "unshare_user", Equal: "rc=0"}, {Key: "unshare_mount", Equal: "rc=0"}, {Key: "mount", Equal: "rc=0"}})

		// The default profile enables mount and unshare with CAP_SYS_ADMIN.
		kv = tfRunScript(t, d, rt, []string{"--cap-add", "SYS_ADMIN"}, secStatus+`
echo "unshare_mount=$(r unshare -m true)"
`)
		tfCheck(t, kv, []tfWant{{Key: "seccomp", Equal: "2"}, {Key: "unshare_mount", Equal: "rc=0"}})

		// A process exec'd into a running container is confined alike.
		id, _ := tfRunDetachedScript(t, d, rt, nil, "")
		t.Cleanup(func() { d.Berth(t, "rm", "-f", id) })
		kv = tfExecScript(t, d, id, secStatus+`echo "unshare_user=$(r unshare -U true)"`)
		tfCheck(t, kv, []tfWant{{Key: "seccomp", Equal: "2"}, {Key: "capeff", Equal: wantCaps},
			{Key: "unshare_user", Contains: "Operation not permitted"}})

		// no-new-privileges, in each of Docker's spellings.
		for _, opt := range []string{"no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"} {
			kv = tfRunScript(t, d, rt, []string{"--security-opt", opt}, secStatus)
			tfCheck(t, kv, []tfWant{{Key: "nnp", Equal: "1"}, {Key: "seccomp", Equal: "2"}})
		}
	})
}

// secDenyMkdir writes a seccomp profile that denies only mkdir.
func secDenyMkdir(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "deny-mkdir.json")
	profile := `{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO" }
  ]
}
`
	assert.NilError(t, os.WriteFile(p, []byte(profile), 0o600))
	return p
}

// TestSecurityCustomSeccompProfile runs a profile file given to the berth
// CLI on every runtime, and to the docker CLI, which both send its content.
func TestSecurityCustomSeccompProfile(t *testing.T) {
	d := harness.NewWithImage(t)
	profile := secDenyMkdir(t)
	script := secStatus + `
echo "mkdir=$(r mkdir /newdir)"
echo "touch=$(r touch /newfile)"
`
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		kv := tfRunScript(t, d, rt, []string{"--security-opt", "seccomp=" + profile}, script)
		tfCheck(t, kv, []tfWant{
			{Key: "seccomp", Equal: "2"},
			{Key: "mkdir", Contains: "Operation not permitted"},
			{Key: "touch", Equal: "rc=0"},
		})
	})
	res := d.Docker(t, harness.DockerCLI, "run", "--rm", "--network", "none", "--security-opt", "seccomp="+profile, "busybox", "sh", "-c", script)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	tfCheck(t, tfParse(res.Stdout), []tfWant{
		{Key: "seccomp", Equal: "2"},
		{Key: "mkdir", Contains: "Operation not permitted"},
		{Key: "touch", Equal: "rc=0"},
	})
	// The profile's content is what the container keeps, as with Docker.
	id := d.OK(t, "create", "--security-opt", "seccomp="+profile, "busybox", "true")
	t.Cleanup(func() { d.Berth(t, "rm", "-f", id) })
	opts := d.OK(t, "inspect", "-f", "{{json .HostConfig.SecurityOpt}}", id)
	assert.Check(t, is.Equal(opts, `["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"]`))
}

// secHostDevices names the device nodes directly under the host's /dev
// that a privileged container must get (not the console, which the
// runtime provides, nor ptmx, which devpts provides).
func secHostDevices(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/dev")
	assert.NilError(t, err)
	var out []string
	for _, e := range entries {
		if e.Name() == "console" || e.Name() == "ptmx" {
			continue
		}
		var st unix.Stat_t
		if unix.Lstat(filepath.Join("/dev", e.Name()), &st) != nil {
			continue
		}
		if m := st.Mode & unix.S_IFMT; m == unix.S_IFCHR || m == unix.S_IFBLK {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestSecurityPrivileged checks --privileged on every runtime: every
// capability of the daemon's bounding set, no seccomp filter, the host's
// devices, no masked or read-only paths, a writable /sys.
func TestSecurityPrivileged(t *testing.T) {
	d := harness.NewWithImage(t)
	want := fmt.Sprintf("%016x", secHostCapBnd(t))
	hostDevs := secHostDevices(t)
	assert.Assert(t, len(hostDevs) > 5, "the host's /dev has only %v", hostDevs)
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		kv := tfRunScript(t, d, rt, []string{"--privileged", "--security-opt", "seccomp=" + secDenyMkdir(t)}, secStatus+`
echo "devs=$(ls /dev | tr '\n' ' ')"
echo "proc_mounts=$(grep -c ' /proc/' /proc/mounts)"
echo "timer_list=$(wc -c < /proc/timer_list)"
echo "sys=$(grep ' /sys ' /proc/mounts | awk '{print substr($4,1,2)}')"
echo "userns_mount=$(unshare -U -r -m sh -c 'mount -t tmpfs none /tmp && echo mounted' 2>&1 | tr '\n' ' ')"
echo "mkdir=$(r mkdir /newdir)"
`)
		t.Logf("%s privileged container: CapEff=%s Seccomp=%s", rt, kv["capeff"], kv["seccomp"])
		tfCheck(t, kv, []tfWant{
			{Key: "capeff", Equal: want},
			{Key: "seccomp", Equal: "0"}, // a custom profile is ignored too, as Docker
			{Key: "proc_mounts", Equal: "0"},
			{Key: "sys", Equal: "rw"},
			{Key: "userns_mount", Equal: "mounted"},
			{Key: "mkdir", Equal: "rc=0"},
		})
		assert.Check(t, kv["timer_list"] != "0", "/proc/timer_list is masked: %v", kv)
		devs := strings.Fields(kv["devs"])
		for _, dev := range hostDevs {
			assert.Check(t, slices.Contains(devs, dev), "host device /dev/%s missing in the privileged container: %v", dev, devs)
		}
		// A default container gets none of them.
		kv = tfRunScript(t, d, rt, nil, `echo "devs=$(ls /dev | tr '\n' ' ')"`)
		assert.Check(t, !slices.Contains(strings.Fields(kv["devs"]), "loop-control") && !slices.Contains(strings.Fields(kv["devs"]), "kmsg"), "%v", kv)
	})
}

// TestSecuritySystemPaths checks systempaths=unconfined from both CLIs
// (the docker CLI sends empty MaskedPaths and ReadonlyPaths) and that
// inspect shows Docker's default lists otherwise.
func TestSecuritySystemPaths(t *testing.T) {
	d := harness.NewWithImage(t)
	script := `echo "timer_list=$(wc -c < /proc/timer_list)"
echo "proc_mounts=$(grep -c ' /proc/' /proc/mounts)"
echo "seccomp=$(grep 'Seccomp:' /proc/self/status | cut -f2)"
`
	kv := tfRunScript(t, d, "runc", []string{"--security-opt", "systempaths=unconfined"}, script)
	tfCheck(t, kv, []tfWant{{Key: "proc_mounts", Equal: "0"}, {Key: "seccomp", Equal: "2"}})
	assert.Check(t, kv["timer_list"] != "0", "%v", kv)
	res := d.Docker(t, harness.DockerCLI, "run", "--rm", "--network", "none", "--security-opt", "systempaths=unconfined", "busybox", "sh", "-c", script)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	tfCheck(t, tfParse(res.Stdout), []tfWant{{Key: "proc_mounts", Equal: "0"}, {Key: "seccomp", Equal: "2"}})

	id := d.OK(t, "create", "--security-opt", "systempaths=unconfined", "busybox", "true")
	t.Cleanup(func() { d.Berth(t, "rm", "-f", id) })
	assert.Check(t, is.Equal(d.OK(t, "inspect", "-f", "{{json .HostConfig.MaskedPaths}} {{json .HostConfig.ReadonlyPaths}}", id), "[] []"))
	def := d.OK(t, "create", "busybox", "true")
	t.Cleanup(func() { d.Berth(t, "rm", "-f", def) })
	assert.Check(t, is.Equal(d.OK(t, "inspect", "-f", "{{json .HostConfig.ReadonlyPaths}}", def),
		`["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]`))
	assert.Check(t, is.Contains(d.OK(t, "inspect", "-f", "{{json .HostConfig.MaskedPaths}}", def), `"/proc/kcore"`))
}

// TestSecurityBadSettingsRefusedAtCreate checks that unknown security
// options, bad seccomp profiles and unknown capabilities are a 400 at
// create naming the value, through the API, the berth CLI and the docker
// CLI, and leave nothing behind.
func TestSecurityBadSettingsRefusedAtCreate(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.Snapshot(t)
	tests := []struct {
		name    string
		hc      map[string]any
		want    string
		cliArgs []string // run flags that send the same
	}{
		{name: "unknown option", hc: map[string]any{"SecurityOpt": []string{"foo=bar"}},
			want: `invalid --security-opt "foo=bar": unknown option "foo"`, cliArgs: []string{"--security-opt", "foo=bar"}},
		{name: "bad JSON profile", hc: map[string]any{"SecurityOpt": []string{`seccomp={"defaultAction":`}},
			want: "invalid --security-opt seccomp: not a valid seccomp profile: not a JSON profile"},
		{name: "unknown action", hc: map[string]any{"SecurityOpt": []string{`seccomp={"defaultAction":"SCMP_ACT_NOPE"}`}},
			want: `unknown defaultAction "SCMP_ACT_NOPE"`},
		{name: "a path instead of a profile", hc: map[string]any{"SecurityOpt": []string{"seccomp=/etc/profile.json"}},
			want: "give the profile's content"},
		{name: "bad no-new-privileges", hc: map[string]any{"SecurityOpt": []string{"no-new-privileges=maybe"}},
			want: `invalid --security-opt "no-new-privileges=maybe"`, cliArgs: []string{"--security-opt", "no-new-privileges=maybe"}},
		{name: "bad label", hc: map[string]any{"SecurityOpt": []string{"label=foo"}},
			want: `invalid --security-opt "label=foo"`, cliArgs: []string{"--security-opt", "label=foo"}},
		{name: "unknown CapAdd", hc: map[string]any{"CapAdd": []string{"NET_ADMIN", "CAP_FOO"}},
			want: `invalid CapAdd: unknown capability: "CAP_FOO"`, cliArgs: []string{"--cap-add", "NET_ADMIN", "--cap-add", "CAP_FOO"}},
		{name: "unknown CapDrop", hc: map[string]any{"CapDrop": []string{"bogus"}},
			want: `invalid CapDrop: unknown capability: "CAP_BOGUS"`, cliArgs: []string{"--cap-drop", "bogus"}},
		{name: "relative masked path", hc: map[string]any{"MaskedPaths": []string{"proc/kcore"}},
			want: `"proc/kcore" is not an absolute path`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := d.API(t, "POST", "/v1.47/containers/create", map[string]any{
				"Image": "busybox", "Cmd": []string{"true"}, "HostConfig": tc.hc,
			})
			assert.Equal(t, r.Status, 400, "body: %s", r.Body)
			assert.Check(t, is.Contains(r.Message(), tc.want))
			if tc.cliArgs != nil {
				d.Fails(t, 125, []string{tc.want}, append(append([]string{"run", "--rm"}, tc.cliArgs...), "busybox", "true")...)
				res := d.Docker(t, harness.DockerCLI, append(append([]string{"run", "--rm"}, tc.cliArgs...), "busybox", "true")...)
				assert.Equal(t, res.ExitCode, 125, res.Combined())
				assert.Check(t, is.Contains(res.Stderr, tc.want))
			}
		})
	}
	// A broken profile file: the CLIs refuse it before sending anything.
	bad := filepath.Join(t.TempDir(), "bad.json")
	assert.NilError(t, os.WriteFile(bad, []byte(`{"defaultAction": `), 0o600))
	d.Fails(t, 125, []string{"compacting json for seccomp profile (" + bad + ") failed"}, "run", "--rm", "--security-opt", "seccomp="+bad, "busybox", "true")
	res := d.Docker(t, harness.DockerCLI, "run", "--rm", "--security-opt", "seccomp="+bad, "busybox", "true")
	assert.Equal(t, res.ExitCode, 125, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "compacting json for seccomp profile"))

	d.AssertUnchanged(t, before, "refused security settings")
}

// TestSecurityInfo checks that info reports the seccomp profile in use, as
// Docker, through the API, the berth CLI and the docker CLI.
func TestSecurityInfo(t *testing.T) {
	d := harness.NewWithImage(t)
	var info struct{ SecurityOptions []string }
	d.API(t, "GET", "/v1.47/info", nil).Decode(t, 200, &info)
	assert.Check(t, is.Contains(info.SecurityOptions, "name=seccomp,profile=builtin"))
	assert.Check(t, is.Contains(d.OK(t, "info"), " Security Options:\n  seccomp\n   Profile: builtin\n"))
	res := d.Docker(t, harness.DockerCLI, "info")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, " Security Options:\n  seccomp\n   Profile: builtin\n"))
}

// TestSecurityDaemonSeccompProfile checks berthd --seccomp-profile as
// dockerd's: a profile file becomes every container's default (seccomp=builtin
// still selects Docker's), info names it with a warning, "unconfined" turns
// the filter off, and a bad file stops the daemon from starting.
func TestSecurityDaemonSeccompProfile(t *testing.T) {
	profile := secDenyMkdir(t)
	d := harness.NewWithImage(t, harness.WithArgs("--seccomp-profile", profile))
	script := secStatus + `echo "mkdir=$(r mkdir /newdir)"`
	kv := tfRunScript(t, d, "runc", nil, script)
	tfCheck(t, kv, []tfWant{{Key: "seccomp", Equal: "2"}, {Key: "mkdir", Contains: "Operation not permitted"}})
	kv = tfRunScript(t, d, "runc", []string{"--security-opt", "seccomp=builtin"}, script)
	tfCheck(t, kv, []tfWant{{Key: "seccomp", Equal: "2"}, {Key: "mkdir", Equal: "rc=0"}})
	var info struct{ SecurityOptions, Warnings []string }
	d.API(t, "GET", "/v1.47/info", nil).Decode(t, 200, &info)
	assert.Check(t, is.Contains(info.SecurityOptions, "name=seccomp,profile="+profile))
	assert.Check(t, is.Contains(info.Warnings, "WARNING: daemon is not using the default seccomp profile"))

	u := harness.NewWithImage(t, harness.WithArgs("--seccomp-profile", "unconfined"))
	kv = tfRunScript(t, u, "runc", nil, script)
	tfCheck(t, kv, []tfWant{{Key: "seccomp", Equal: "0"}, {Key: "mkdir", Equal: "rc=0"}})

	// A bad profile: berthd refuses to start, saying why.
	bad := filepath.Join(t.TempDir(), "bad.json")
	assert.NilError(t, os.WriteFile(bad, []byte(`{"defaultAction":"SCMP_ACT_NOPE"}`), 0o600))
	root := t.TempDir()
	cfg := filepath.Join(root, "daemon.json")
	assert.NilError(t, os.WriteFile(cfg, []byte("{}\n"), 0o600))
	// A daemon that starts anyway is killed when the test gives up on it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(harness.Binaries(t), "berthd"), "--data-root", filepath.Join(root, "data"),
		"--exec-root", filepath.Join(root, "exec"), "-H", "unix://"+filepath.Join(root, "s.sock"), "--config-file", cfg,
		"--seccomp-profile", bad)
	out, err := cmd.CombinedOutput()
	assert.Check(t, err != nil, "berthd started with a bad profile: %s", out)
	assert.Check(t, is.Contains(string(out), `unknown defaultAction "SCMP_ACT_NOPE"`))
}
