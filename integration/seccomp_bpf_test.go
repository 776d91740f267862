package integration

// On crun, berthd compiles each distinct seccomp profile once (with
// bin/berth-seccomp) and hands crun the BPF program in the
// run.oci.seccomp_bpf_data annotation. These tests prove the program is
// the one crun itself would install: each container's installed filter is
// read back from the kernel with PTRACE_SECCOMP_GET_FILTER and compared,
// byte for byte, with the filter of the same container started by a
// daemon that has no berth-seccomp (so crun compiles the profile).

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

const bpfAnnotation = "run.oci.seccomp_bpf_data"

// ptraceSeccompGetFilter is PTRACE_SECCOMP_GET_FILTER (linux/ptrace.h).
const ptraceSeccompGetFilter = 0x420c

// seccompFilters returns the seccomp programs installed in process pid,
// newest first: the test attaches with PTRACE_SEIZE, stops it with
// PTRACE_INTERRUPT, reads each filter and detaches.
func seccompFilters(t *testing.T, pid int) [][]byte {
	t.Helper()
	runtime.LockOSThread() // ptrace requests come from the attaching thread
	defer runtime.UnlockOSThread()
	assert.NilError(t, unix.PtraceSeize(pid), "PTRACE_SEIZE %d", pid)
	defer func() { assert.Check(t, unix.PtraceDetach(pid), "PTRACE_DETACH %d", pid) }()
	assert.NilError(t, unix.PtraceInterrupt(pid))
	var ws unix.WaitStatus
	_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
	assert.NilError(t, err)
	assert.Assert(t, ws.Stopped(), "process %d not stopped: %v", pid, ws)
	var progs [][]byte
	for i := 0; ; i++ {
		n, _, errno := unix.Syscall6(unix.SYS_PTRACE, ptraceSeccompGetFilter, uintptr(pid), uintptr(i), 0, 0, 0)
		if errno == unix.ENOENT || (errno == unix.EINVAL && i == 0) {
			// ENOENT: no more filters; EINVAL at 0: not in filter mode.
			return progs
		}
		assert.Assert(t, errno == 0, "PTRACE_SECCOMP_GET_FILTER %d: %v", i, errno)
		buf := make([]byte, n*8) // struct sock_filter is 8 bytes
		_, _, errno = unix.Syscall6(unix.SYS_PTRACE, ptraceSeccompGetFilter, uintptr(pid), uintptr(i), uintptr(unsafe.Pointer(&buf[0])), 0, 0)
		assert.Assert(t, errno == 0, "PTRACE_SECCOMP_GET_FILTER %d: %v", i, errno)
		progs = append(progs, buf)
	}
}

// bundleAnnotation is the precompiled filter berthd gave the runtime for
// a running container ("" when none), from the bundle's config.json.
func bundleAnnotation(t *testing.T, d *harness.Daemon, id string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(d.ExecRoot, "containers", id, "bundle", "config.json"))
	assert.NilError(t, err)
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	assert.NilError(t, json.Unmarshal(data, &spec))
	return spec.Annotations[bpfAnnotation]
}

// runSleeper starts a long-running container and returns its id and the
// host pid of its init.
func runSleeper(t *testing.T, d *harness.Daemon, args ...string) (string, int) {
	t.Helper()
	id := d.OK(t, append(append([]string{"run", "-d", "--network", "none"}, args...), "busybox", "sleep", "600")...)
	t.Cleanup(func() { d.Berth(t, "rm", "-f", id) })
	pid, err := strconv.Atoi(d.Inspect(t, id, "{{.State.Pid}}"))
	assert.NilError(t, err)
	assert.Assert(t, pid > 0)
	return id, pid
}

// secCustomProfile exercises each path of the compiler: errnoRet, a rule
// with the default action (skipped), an unknown syscall name (skipped),
// conditions on several arguments (one rule), two conditions on the same
// argument (one rule each), MASKED_EQ with valueTwo (chmod of a setuid
// mode fails with EACCES), SCMP_ACT_KILL_PROCESS.
const secCustomProfile = `{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["mkdir", "mkdirat", "berth_no_such_syscall"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 },
    { "names": ["getpid"], "action": "SCMP_ACT_ALLOW" },
    { "names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
      "args": [ { "index": 0, "value": 8, "op": "SCMP_CMP_EQ" } ] },
    { "names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
      "args": [ { "index": 0, "value": 40, "op": "SCMP_CMP_EQ" }, { "index": 0, "value": 38, "op": "SCMP_CMP_EQ" } ] },
    { "names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
      "args": [ { "index": 1, "value": 2048, "valueTwo": 2048, "op": "SCMP_CMP_MASKED_EQ" } ] },
    { "names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
      "args": [ { "index": 2, "value": 2048, "valueTwo": 2048, "op": "SCMP_CMP_MASKED_EQ" } ] },
    { "names": ["ioperm"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
      "args": [ { "index": 0, "value": 0, "op": "SCMP_CMP_EQ" }, { "index": 1, "value": 10, "op": "SCMP_CMP_GT" } ] },
    { "names": ["keyctl"], "action": "SCMP_ACT_KILL_PROCESS" }
  ]
}
`

// TestSeccompPrecompiledEqualsCrun: on crun, the filter installed from
// berthd's annotation is byte-identical to the one crun compiles from the
// same profile, for Docker's default profile and for a custom one, and
// denies the same syscalls with the same errno.
func TestSeccompPrecompiledEqualsCrun(t *testing.T) {
	with := harness.NewWithImage(t, harness.WithArgs("--runtime", "crun"))
	with.RequireRuntime(t, "crun")
	without := harness.NewWithImage(t, harness.WithArgs("--runtime", "crun"), harness.WithoutBinary("berth-seccomp"))

	profile := filepath.Join(t.TempDir(), "custom.json")
	assert.NilError(t, os.WriteFile(profile, []byte(secCustomProfile), 0o600))

	cases := []struct {
		name string
		args []string
		// script prints lines the two containers must agree on, and
		// want are substrings they must contain.
		script string
		want   []string
	}{
		{
			name:   "default",
			script: `unshare -U true 2>&1; echo "unshare rc=$?"`,
			want:   []string{"Operation not permitted", "unshare rc=1"},
		},
		{
			name: "custom",
			args: []string{"--security-opt", "seccomp=" + profile},
			script: `mkdir /tmp/x 2>&1; echo "mkdir rc=$?"; touch /tmp/y && echo "touch rc=$?"; ` +
				`chmod 4755 /tmp/y 2>&1; echo "chmod-suid rc=$?"; chmod 755 /tmp/y; echo "chmod rc=$?"`,
			want: []string{"Function not implemented", "mkdir rc=1", "touch rc=0", "Permission denied", "chmod-suid rc=1", "chmod rc=0"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idW, pidW := runSleeper(t, with, tc.args...)
			idO, pidO := runSleeper(t, without, tc.args...)

			ann := bundleAnnotation(t, with, idW)
			assert.Assert(t, ann != "", "no %s annotation for a crun container with a profile", bpfAnnotation)
			assert.Check(t, is.Equal(bundleAnnotation(t, without, idO), ""), "annotation without berth-seccomp")

			fW, fO := seccompFilters(t, pidW), seccompFilters(t, pidO)
			assert.Assert(t, is.Len(fO, 1), "crun-compiled container: %d filters", len(fO))
			assert.Assert(t, is.Len(fW, 1), "precompiled container: %d filters", len(fW))
			assert.Assert(t, len(fO[0]) > 8)
			assert.Check(t, string(fW[0]) == string(fO[0]),
				"installed filters differ: precompiled %d bytes, crun-compiled %d bytes", len(fW[0]), len(fO[0]))
			bpf, err := base64.StdEncoding.DecodeString(ann)
			assert.NilError(t, err)
			assert.Check(t, string(bpf) == string(fO[0]), "the annotation is not the installed program")
			t.Logf("%s profile: %d BPF instructions, identical", tc.name, len(fO[0])/8)

			// The same denials, with the profile's errno, in new
			// containers and in exec'd processes.
			for _, d := range []*harness.Daemon{with, without} {
				res := d.Berth(t, append(append([]string{"run", "--rm", "--network", "none"}, tc.args...), "busybox", "sh", "-c", tc.script)...)
				assert.Check(t, is.Equal(res.ExitCode, 0), res.Combined())
				for _, w := range tc.want {
					assert.Check(t, is.Contains(res.Stdout, w))
				}
			}
			outW := with.Berth(t, "exec", idW, "sh", "-c", tc.script)
			outO := without.Berth(t, "exec", idO, "sh", "-c", tc.script)
			assert.Check(t, is.Equal(outW.Stdout, outO.Stdout))
			for _, w := range tc.want {
				assert.Check(t, is.Contains(outW.Stdout, w))
			}
		})
	}

	// Compiled once per distinct profile: a second default container adds
	// no file to the cache, which holds one program per profile.
	runSleeper(t, with)
	cached, err := filepath.Glob(filepath.Join(with.ExecRoot, "seccomp", "*.bpf"))
	assert.NilError(t, err)
	assert.Check(t, is.Len(cached, 2), "cache: %v", cached)

	// After a restart the compiled profiles come from the exec root: the
	// same program, no new file.
	idFirst, _ := runSleeper(t, with)
	first := bundleAnnotation(t, with, idFirst)
	with.Restart(t)
	id, _ := runSleeper(t, with)
	assert.Check(t, is.Equal(bundleAnnotation(t, with, id), first))
	cached, err = filepath.Glob(filepath.Join(with.ExecRoot, "seccomp", "*.bpf"))
	assert.NilError(t, err)
	assert.Check(t, is.Len(cached, 2), "cache after restart: %v", cached)

	// No helper: one warning, and crun compiles as before.
	assert.Check(t, is.Equal(strings.Count(without.Log(), "crun compiles seccomp profiles itself"), 1), without.Log())
}

// TestSeccompPrecompiledOnlyWhereItApplies: no annotation without a
// filter (unconfined, privileged) or on runc.
func TestSeccompPrecompiledOnlyWhereItApplies(t *testing.T) {
	d := harness.NewWithImage(t, harness.WithArgs("--runtime", "crun"))
	d.RequireRuntime(t, "crun")

	id, pid := runSleeper(t, d, "--security-opt", "seccomp=unconfined")
	assert.Check(t, is.Equal(bundleAnnotation(t, d, id), ""))
	assert.Check(t, is.Len(seccompFilters(t, pid), 0))

	id, _ = runSleeper(t, d, "--privileged")
	assert.Check(t, is.Equal(bundleAnnotation(t, d, id), ""))

	d.RequireRuntime(t, "runc")
	id, pid = runSleeper(t, d, "--runtime", "runc")
	assert.Check(t, is.Equal(bundleAnnotation(t, d, id), ""))
	assert.Check(t, is.Len(seccompFilters(t, pid), 1), "runc installs the profile itself")

}

// TestSeccompPrecompiledBadProfile: a profile berth-seccomp refuses is
// left to crun, which tells the user what is wrong; other profiles are
// still precompiled.
func TestSeccompPrecompiledBadProfile(t *testing.T) {
	d := harness.NewWithImage(t, harness.WithArgs("--runtime", "crun"))
	d.RequireRuntime(t, "crun")
	bad := filepath.Join(t.TempDir(), "bad.json")
	assert.NilError(t, os.WriteFile(bad, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}`), 0o600))
	res := d.Berth(t, "run", "--rm", "--network", "none", "--security-opt", "seccomp="+bad, "busybox", "true")
	assert.Check(t, res.ExitCode != 0)
	assert.Check(t, is.Contains(res.Stderr, "errno value specified for action `SCMP_ACT_ALLOW`"), "crun's own message")
	assert.Check(t, is.Contains(d.Log(), "cannot compile this seccomp profile"))
	id, _ := runSleeper(t, d)
	assert.Check(t, bundleAnnotation(t, d, id) != "", "the default profile is still precompiled")
}
