package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestKubeRoundTrip generates a Pod from a read-only container with a
// copied-up tmpfs and limits, plays it back, and checks from inside the
// played container that the tmpfs has the image's content (owners, modes,
// links), the root is read-only and the limits apply; down then leaves
// nothing.
func TestKubeRoundTrip(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.Snapshot(t)
	d.OK(t, "run", "-d", "--name", "web", "--read-only", "--tmpfs", "/run:size=8m",
		"-m", "64m", "--cpus", "0.5", "--cap-drop", "NET_RAW", "--security-opt", "no-new-privileges",
		"-e", "GREETING=hello", "--user", "app", "busybox", "sleep", "100000")
	res := d.Berth(t, "kube", "generate", "web")
	assert.Equal(t, res.ExitCode, 0, res.Combined())

	var pod corev1.Pod
	assert.NilError(t, yaml.UnmarshalStrict([]byte(res.Stdout), &pod))
	assert.Equal(t, len(pod.Spec.InitContainers), 1, res.Stdout)
	assert.DeepEqual(t, pod.Spec.InitContainers[0].Command, []string{"cp", "-a", "/run/.", "/berth-copyup/run/"})
	assert.Equal(t, pod.Spec.Volumes[0].EmptyDir.Medium, corev1.StorageMediumMemory)
	assert.Equal(t, pod.Spec.Volumes[0].EmptyDir.SizeLimit.Value(), int64(8<<20))
	ctr := pod.Spec.Containers[0]
	assert.Equal(t, *ctr.SecurityContext.ReadOnlyRootFilesystem, true)
	assert.Equal(t, *ctr.SecurityContext.AllowPrivilegeEscalation, false)
	assert.Equal(t, ctr.Resources.Limits.Memory().Value(), int64(64<<20))
	assert.Equal(t, ctr.Resources.Limits.Cpu().MilliValue(), int64(500))
	// The user name, resolved in the container's /etc/passwd.
	assert.Equal(t, *ctr.SecurityContext.RunAsUser, int64(1000))
	assert.Equal(t, *ctr.SecurityContext.RunAsGroup, int64(1000))

	file := filepath.Join(t.TempDir(), "web.yaml")
	assert.NilError(t, os.WriteFile(file, []byte(res.Stdout), 0o644))
	d.OK(t, "rm", "-f", "web")

	// The same manifest run by the init container's own command, as a
	// kubelet would: busybox cp -a fills an emptyDir-like tmpfs the same
	// way Berth's copy-up does.
	cp := d.OK(t, "run", "--rm", "--read-only", "--tmpfs", "/berth-copyup/run:notmpcopyup", "busybox", "sh", "-c",
		"cp -a /run/. /berth-copyup/run/ && stat -c '%a %u %g' /berth-copyup/run/app && cat /berth-copyup/run/app/config && readlink /berth-copyup/run/app/link")
	assert.Equal(t, cp, "750 1000 1000\nimage-config\nconfig")

	play := d.Berth(t, "kube", "play", file)
	assert.Equal(t, play.ExitCode, 0, play.Combined())
	t.Cleanup(func() { d.Berth(t, "kube", "down", file) })
	out := d.OK(t, "exec", "web-web", "sh", "-c", `
stat -c '%a %u %g' /run/app
cat /run/app/config
readlink /run/app/link
touch /x 2>&1 || true
cat /sys/fs/cgroup/memory/memory.limit_in_bytes
cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us
echo "$GREETING"
grep NoNewPrivs /proc/self/status
echo "$(id -u):$(id -g)"
`)
	lines := strings.Split(out, "\n")
	assert.Assert(t, len(lines) >= 9, out)
	assert.Equal(t, lines[0], "750 1000 1000")
	assert.Equal(t, lines[1], "image-config")
	assert.Equal(t, lines[2], "config")
	assert.Check(t, is.Contains(lines[3], "Read-only file system"))
	assert.Equal(t, lines[4], "67108864")
	assert.Equal(t, lines[5], "50000")
	assert.Equal(t, lines[6], "hello")
	assert.Check(t, is.Contains(lines[7], "1"))
	assert.Equal(t, lines[8], "1000:1000")
	assert.Equal(t, d.Inspect(t, "web-web", "{{.HostConfig.CapDrop}} {{.HostConfig.NetworkMode}}"), "[CAP_NET_RAW] container:web-infra")

	down := d.Berth(t, "kube", "down", file)
	assert.Equal(t, down.ExitCode, 0, down.Combined())
	d.AssertUnchanged(t, before, "after kube down")
}

// TestKubePlayInitAndSharedVolume plays a hand-written Pod: an init
// container writes to a shared emptyDir that the app container then reads;
// a bad manifest (unknown field) is refused and leaves nothing.
func TestKubePlayInitAndSharedVolume(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.Snapshot(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	assert.NilError(t, os.WriteFile(bad, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: busybox, bogus: 1}]\n"), 0o644))
	d.Fails(t, 1, []string{"bogus"}, "kube", "play", bad)
	d.AssertUnchanged(t, before, "after a bad manifest")

	file := filepath.Join(t.TempDir(), "pod.yaml")
	assert.NilError(t, os.WriteFile(file, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: shared
spec:
  initContainers:
  - name: first
    image: busybox
    command: ["sh", "-c", "echo one > /data/log"]
    volumeMounts: [{name: data, mountPath: /data}]
  - name: second
    image: busybox
    command: ["sh", "-c", "echo two >> /data/log"]
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: app
    image: busybox
    command: ["sleep", "100000"]
    securityContext: {readOnlyRootFilesystem: true, runAsUser: 1000, runAsGroup: 1000}
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    emptyDir: {}
`), 0o644))
	play := d.Berth(t, "kube", "play", file)
	assert.Equal(t, play.ExitCode, 0, play.Combined())
	t.Cleanup(func() { d.Berth(t, "kube", "down", file) })
	assert.Equal(t, d.OK(t, "exec", "shared-app", "sh", "-c", "cat /data/log; id -u; id -g"), "one\ntwo\n1000\n1000")
	d.OK(t, "kube", "down", file)
	d.AssertUnchanged(t, before, "after kube down")
}
