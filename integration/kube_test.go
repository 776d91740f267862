package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
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

// TestKubeRoundTripTmpfsVolume generates a Pod from two containers that
// share a tmpfs volume (the local driver's type=tmpfs): it is one memory
// emptyDir with the volume's size, mounted by both, not a claim. Played,
// it is a tmpfs volume again that both containers share, and generating
// from the played containers gives the same volumes and mounts.
func TestKubeRoundTripTmpfsVolume(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.Snapshot(t)
	d.OK(t, "volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=2m,mode=1777", "rtcache")
	d.OK(t, "run", "-d", "--name", "rt", "-v", "rtcache:/cache", "busybox", "sleep", "100000")
	d.OK(t, "run", "-d", "--name", "rtb", "-v", "rtcache:/shared:ro", "busybox", "sleep", "100000")
	t.Cleanup(func() { d.Berth(t, "rm", "-f", "rt", "rtb"); d.Berth(t, "volume", "rm", "rtcache") })
	first := d.Berth(t, "kube", "generate", "rt", "rtb")
	assert.Equal(t, first.ExitCode, 0, first.Combined())
	assert.Check(t, !strings.Contains(first.Stderr, "rtcache"), first.Stderr)
	assert.Check(t, !strings.Contains(first.Stdout, "PersistentVolumeClaim"), first.Stdout)
	var pod corev1.Pod
	assert.NilError(t, yaml.UnmarshalStrict([]byte(first.Stdout), &pod))
	assert.Equal(t, len(pod.Spec.Volumes), 1, first.Stdout)
	vol := pod.Spec.Volumes[0]
	assert.Equal(t, vol.Name, "rtcache")
	assert.Equal(t, vol.EmptyDir.Medium, corev1.StorageMediumMemory)
	assert.Equal(t, vol.EmptyDir.SizeLimit.Value(), int64(2<<20))
	assert.DeepEqual(t, pod.Spec.Containers[0].VolumeMounts, []corev1.VolumeMount{{Name: "rtcache", MountPath: "/cache"}})
	assert.DeepEqual(t, pod.Spec.Containers[1].VolumeMounts, []corev1.VolumeMount{{Name: "rtcache", MountPath: "/shared", ReadOnly: true}})

	file := filepath.Join(t.TempDir(), "rt.yaml")
	assert.NilError(t, os.WriteFile(file, []byte(first.Stdout), 0o644))
	d.OK(t, "rm", "-f", "rt", "rtb")
	d.OK(t, "volume", "rm", "rtcache")
	play := d.Berth(t, "kube", "play", file)
	assert.Equal(t, play.ExitCode, 0, play.Combined())
	t.Cleanup(func() { d.Berth(t, "kube", "down", file) })
	assert.Equal(t, d.OK(t, "volume", "inspect", "-f", "{{json .Options}}", "rt-rtcache"), `{"device":"tmpfs","o":"size=2097152,mode=1777","type":"tmpfs"}`)
	d.OK(t, "exec", "rt-rt", "sh", "-c", "echo from-rt > /cache/x")
	assert.Equal(t, d.OK(t, "exec", "rt-rtb", "sh", "-c", "cat /shared/x; stat -f -c %T /shared"), "from-rt\ntmpfs")

	second := d.Berth(t, "kube", "generate", "rt-rt", "rt-rtb")
	assert.Equal(t, second.ExitCode, 0, second.Combined())
	var again corev1.Pod
	assert.NilError(t, yaml.UnmarshalStrict([]byte(second.Stdout), &again))
	assert.DeepEqual(t, again.Spec.Volumes, pod.Spec.Volumes)
	for i := range pod.Spec.Containers {
		assert.DeepEqual(t, again.Spec.Containers[i].VolumeMounts, pod.Spec.Containers[i].VolumeMounts)
	}

	d.OK(t, "kube", "down", file)
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
	// Played twice: refused, and the Pod played first is untouched.
	d.Fails(t, 1, []string{"pod shared is already played"}, "kube", "play", file)
	d.WaitState(t, "shared-app", "running")
	d.OK(t, "kube", "down", file)
	d.AssertUnchanged(t, before, "after kube down")

	// A failing init container stops the play and leaves nothing.
	failing := filepath.Join(t.TempDir(), "failing.yaml")
	assert.NilError(t, os.WriteFile(failing, []byte(`apiVersion: v1
kind: Pod
metadata: {name: failing}
spec:
  initContainers: [{name: fail, image: busybox, command: [sh, -c, "exit 3"], volumeMounts: [{name: v, mountPath: /v}]}]
  containers: [{name: app, image: busybox, command: [sleep, "100"], volumeMounts: [{name: v, mountPath: /v}]}]
  volumes: [{name: v, emptyDir: {}}]
`), 0o644))
	d.Fails(t, 1, []string{"init container failing-fail exited with 3"}, "kube", "play", failing)
	d.AssertUnchanged(t, before, "after a failed play")
}

// TestKubePlaySharedMemoryEmptyDir plays a Pod whose init container and
// two app containers share a memory emptyDir with a sizeLimit: it is one
// tmpfs volume (the local driver's type=tmpfs) with that size, the init
// container's writes reach the app containers, each sees the other's,
// writing beyond the limit fails with ENOSPC, and down removes the volume
// and leaves no mount.
func TestKubePlaySharedMemoryEmptyDir(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.Snapshot(t)
	file := filepath.Join(t.TempDir(), "pod.yaml")
	assert.NilError(t, os.WriteFile(file, []byte(`apiVersion: v1
kind: Pod
metadata: {name: mem}
spec:
  initContainers:
  - {name: prep, image: busybox, command: [sh, -c, "echo from-init > /cache/init"], volumeMounts: [{name: cache, mountPath: /cache}]}
  containers:
  - {name: a, image: busybox, command: [sleep, "100000"], volumeMounts: [{name: cache, mountPath: /cache}]}
  - {name: b, image: busybox, command: [sleep, "100000"], securityContext: {runAsUser: 1000}, volumeMounts: [{name: cache, mountPath: /shared}]}
  volumes:
  - {name: cache, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
`), 0o644))
	play := d.Berth(t, "kube", "play", file)
	assert.Equal(t, play.ExitCode, 0, play.Combined())
	t.Cleanup(func() { d.Berth(t, "kube", "down", file) })
	assert.Check(t, !strings.Contains(play.Stderr, "on disk"), play.Stderr)
	assert.Equal(t, d.OK(t, "volume", "inspect", "-f", "{{json .Options}}", "mem-cache"), `{"device":"tmpfs","o":"size=1048576,mode=1777","type":"tmpfs"}`)
	assert.Equal(t, d.OK(t, "exec", "mem-a", "cat", "/cache/init"), "from-init")
	assert.Equal(t, d.OK(t, "exec", "mem-b", "sh", "-c", "cat /shared/init; echo from-b > /shared/b"), "from-init")
	assert.Equal(t, d.OK(t, "exec", "mem-a", "cat", "/cache/b"), "from-b")
	assert.Equal(t, d.OK(t, "exec", "mem-b", "stat", "-f", "-c", "%T", "/shared"), "tmpfs")
	res := d.Berth(t, "exec", "mem-a", "dd", "if=/dev/zero", "of=/cache/big", "bs=1k", "count=2048")
	assert.Assert(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "No space left on device"))
	dir := d.OK(t, "volume", "inspect", "-f", "{{.Mountpoint}}", "mem-cache")
	assert.Check(t, is.Contains(d.HostMounts(t), dir))

	d.OK(t, "kube", "down", file)
	assert.Equal(t, d.OK(t, "volume", "ls", "-q"), "")
	d.AssertUnchanged(t, before, "after kube down")
}

// TestKubeGenerateMounts generates a Deployment and a Service from a
// created container with a named volume, a bind mount, an empty tmpfs and
// a published port: the YAML decodes strictly, the bind is a commented
// hostPath, the volume a claim, and what cannot be said is on stderr.
func TestKubeGenerateMounts(t *testing.T) {
	d := harness.NewWithImage(t)
	hostDir := t.TempDir()
	d.OK(t, "create", "--name", "gm", "-v", "gmdata:/data", "-v", hostDir+":/host:ro",
		"--tmpfs", "/tmp:notmpcopyup,size=4m", "-p", "8080:80", "--pids-limit", "50",
		"--health-cmd", "true", "busybox", "sleep", "100")
	t.Cleanup(func() { d.Berth(t, "rm", "-fv", "gm"); d.Berth(t, "volume", "rm", "gmdata") })
	res := d.Berth(t, "kube", "generate", "--type", "deployment", "--service", "gm")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, strings.HasPrefix(res.Stdout, "# volume host-"), res.Stdout)
	assert.Check(t, is.Contains(strings.SplitN(res.Stdout, "\n", 2)[0], hostDir))
	docs := strings.Split(res.Stdout, "\n---\n")
	assert.Equal(t, len(docs), 3, res.Stdout)
	var dep appsv1.Deployment
	assert.NilError(t, yaml.UnmarshalStrict([]byte(docs[0]), &dep))
	var pvc corev1.PersistentVolumeClaim
	assert.NilError(t, yaml.UnmarshalStrict([]byte(docs[1]), &pvc))
	assert.Equal(t, pvc.Name, "gmdata")
	var svc corev1.Service
	assert.NilError(t, yaml.UnmarshalStrict([]byte(docs[2]), &svc))
	assert.Equal(t, svc.Spec.Ports[0].Port, int32(8080))
	assert.Equal(t, svc.Spec.Ports[0].TargetPort.IntValue(), 80)
	spec := dep.Spec.Template.Spec
	assert.Equal(t, len(spec.InitContainers), 0, "an empty tmpfs needs no copy-up")
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v
	}
	assert.Equal(t, vols["volume-gmdata"].PersistentVolumeClaim.ClaimName, "gmdata")
	assert.Equal(t, vols["gm-tmpfs-tmp"].EmptyDir.SizeLimit.Value(), int64(4<<20))
	var hostPath string
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPath = v.HostPath.Path
		}
	}
	assert.Equal(t, hostPath, hostDir)
	for _, want := range []string{"--pids-limit", "health check", "noexec"} {
		assert.Check(t, is.Contains(res.Stderr, want))
	}
	d.Fails(t, 1, []string{"No such container"}, "kube", "generate", "nosuch")
	d.Fails(t, 1, []string{`invalid --type "job"`}, "kube", "generate", "--type", "job", "gm")
}
