package kube

import (
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	volumetypes "github.com/moby/moby/api/types/volume"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestPlayGenerated plays what Generate wrote: the copy-up init
// containers become Berth's own copy-up of the tmpfs, the rest of the
// container's settings come back.
func TestPlayGenerated(t *testing.T) {
	t.Parallel()
	r, err := Generate(loadFixtures(t, "web", "sidecar"), nil, Options{Kind: KindDeployment, Service: true})
	assert.NilError(t, err)
	out, err := r.YAML()
	assert.NilError(t, err)
	m, err := Decode(out)
	assert.NilError(t, err)
	assert.Equal(t, len(m.Pods), 1)
	assert.Check(t, is.Contains(strings.Join(m.Warnings, "\n"), "kind Service is not played"))
	pl, err := PlanPod(&m.Pods[0], "")
	assert.NilError(t, err)
	var names, roles []string
	for _, c := range pl.Containers {
		names = append(names, c.Name)
		roles = append(roles, c.Role)
	}
	assert.DeepEqual(t, names, []string{"web-infra", "web-web", "web-web-exporter"})
	assert.DeepEqual(t, roles, []string{RoleInfra, RoleApp, RoleApp})
	web := pl.Containers[1]
	assert.DeepEqual(t, web.HostConfig.Tmpfs, map[string]string{
		"/run":             "size=8388608,tmpcopyup,exec",
		"/var/cache/nginx": "size=67108864,notmpcopyup,exec,mode=1777",
	})
	assert.Equal(t, web.HostConfig.ReadonlyRootfs, true)
	assert.Equal(t, web.HostConfig.Memory, int64(128<<20))
	assert.Equal(t, web.HostConfig.NanoCPUs, int64(1_500_000_000))
	assert.DeepEqual(t, web.HostConfig.CapAdd, []string{"NET_BIND_SERVICE"})
	assert.DeepEqual(t, web.HostConfig.CapDrop, []string{"ALL"})
	assert.DeepEqual(t, web.HostConfig.SecurityOpt, []string{"no-new-privileges"})
	assert.Equal(t, web.HostConfig.NetworkMode, containertypes.NetworkMode("container:web-infra"))
	assert.Equal(t, web.HostConfig.RestartPolicy.Name, containertypes.RestartPolicyAlways)
	assert.Equal(t, web.Config.User, "101:101")
	assert.DeepEqual(t, web.Config.Entrypoint, []string{"/docker-entrypoint.sh"})
	assert.DeepEqual(t, web.Config.Cmd, []string{"nginx", "-g", "daemon off;"})
	assert.Equal(t, web.Config.WorkingDir, "/srv")
	assert.Equal(t, web.Config.Labels[PodLabel], "web")
	exporter := pl.Containers[2]
	assert.Equal(t, exporter.HostConfig.Privileged, true)
	assert.DeepEqual(t, exporter.HostConfig.SecurityOpt, []string{"seccomp=unconfined"})
	assert.Equal(t, exporter.Config.User, "65534")
}

func TestPlayMounts(t *testing.T) {
	t.Parallel()
	r, err := Generate(loadFixtures(t, "mounts"), nil, Options{})
	assert.NilError(t, err)
	out, err := r.YAML()
	assert.NilError(t, err)
	m, err := Decode(out)
	assert.NilError(t, err)
	pl, err := PlanPod(&m.Pods[0], "pause:1")
	assert.NilError(t, err)
	assert.Equal(t, pl.Containers[0].Config.Image, "pause:1")
	assert.DeepEqual(t, pl.Claims, []string{"pg-data"})
	db := pl.Containers[1]
	assert.DeepEqual(t, db.HostConfig.Binds, []string{"pg-data:/var/lib/postgresql/data", "/srv/pg/conf:/etc/postgresql:ro"})
	assert.Equal(t, db.HostConfig.Tmpfs["/run/postgresql"], "size=1048576,tmpcopyup,exec")
	assert.Equal(t, db.HostConfig.Tmpfs["/tmp"], "notmpcopyup,exec,mode=1777")
}

// TestPlayGeneratedTmpfsVolume plays what Generate wrote for containers
// sharing a tmpfs volume: the shared memory emptyDir is a tmpfs volume
// again, with the same size, named after the new Pod, mounted by both
// containers; a tmpfs volume of one container is its own tmpfs.
func TestPlayGeneratedTmpfsVolume(t *testing.T) {
	t.Parallel()
	r, err := Generate(loadFixtures(t, "mem-a", "mem-b"), loadVolumes(t, "mem-volumes"), Options{})
	assert.NilError(t, err)
	out, err := r.YAML()
	assert.NilError(t, err)
	m, err := Decode(out)
	assert.NilError(t, err)
	pl, err := PlanPod(&m.Pods[0], "")
	assert.NilError(t, err)
	assert.DeepEqual(t, pl.Volumes, []Volume{{Name: "mem-a-cache", DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1048576,mode=1777"}}})
	assert.DeepEqual(t, pl.Claims, []string{"logs"})
	assert.DeepEqual(t, pl.Containers[0].HostConfig.Binds, []string{"mem-a-cache:" + PodVolumesDir + "/cache"})
	a, b := pl.Containers[1], pl.Containers[2]
	assert.DeepEqual(t, a.HostConfig.Binds, []string{"mem-a-cache:/cache"})
	assert.DeepEqual(t, b.HostConfig.Binds, []string{"mem-a-cache:/shared:ro", "logs:/logs"})
	assert.DeepEqual(t, b.HostConfig.Tmpfs, map[string]string{"/scratch": "notmpcopyup,exec,mode=1777"})

	// Played, the volume carries the new Pod's label: its emptyDir keeps
	// the name.
	vol := volumetypes.Volume{Name: "mem-a-cache", Driver: "local", Labels: map[string]string{PodLabel: pl.Pod}, Options: pl.Volumes[0].DriverOpts}
	assert.Equal(t, emptyDirName(vol), "cache")
}

func TestPlayInitAndShared(t *testing.T) {
	t.Parallel()
	m, err := Decode([]byte(`# a comment
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 3
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      initContainers:
      - {name: prep, image: busybox, command: [sh, -c, "echo > /d/x"], volumeMounts: [{name: d, mountPath: /d}]}
      containers:
      - name: main
        image: busybox
        env: [{name: A, value: b}, {name: F, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        resources: {requests: {cpu: 100m}}
        livenessProbe: {exec: {command: ["true"]}}
        volumeMounts: [{name: d, mountPath: /d, readOnly: true}]
      volumes:
      - {name: d, emptyDir: {medium: Memory}}
`))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(strings.Join(m.Warnings, "\n"), "one replica, not 3"))
	pl, err := PlanPod(&m.Pods[0], "")
	assert.NilError(t, err)
	assert.DeepEqual(t, pl.Volumes, []Volume{{Name: "app-d", DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "mode=1777"}}})
	assert.DeepEqual(t, pl.Containers[0].HostConfig.Binds, []string{"app-d:" + PodVolumesDir + "/d"})
	assert.Equal(t, pl.Containers[1].Role, RoleInit)
	assert.DeepEqual(t, pl.Containers[1].HostConfig.Binds, []string{"app-d:/d"})
	assert.DeepEqual(t, pl.Containers[2].HostConfig.Binds, []string{"app-d:/d:ro"})
	assert.DeepEqual(t, pl.Containers[2].Config.Env, []string{"A=b"})
	w := strings.Join(pl.Warnings, "\n")
	assert.Check(t, !strings.Contains(w, "shared by several containers"))
	for _, want := range []string{"env F", "requests are not played", "probes are not played"} {
		assert.Check(t, is.Contains(w, want))
	}
}

func TestPlayRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, want string }{
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x, bogus: 1}]\n", "bogus"},
		{"apiVersion: v1\nmetadata: {name: p}\n", "no kind"},
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: P_1}\nspec: {containers: [{name: a, image: x}]}\n", "not a DNS label"},
	} {
		_, err := Decode([]byte(tc.doc))
		assert.ErrorContains(t, err, tc.want)
	}
	for _, tc := range []struct{ doc, want string }{
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n", "no containers"},
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}]}\n", "no image"},
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x, volumeMounts: [{name: v, mountPath: /v}]}]\n", "does not have"},
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n  volumes: [{name: v, configMap: {name: c}}]\n", "only emptyDir"},
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x, volumeMounts: [{name: v, mountPath: /v, subPath: s}]}]\n  volumes: [{name: v, emptyDir: {}}]\n", "subPath"},
	} {
		m, err := Decode([]byte(tc.doc))
		assert.NilError(t, err)
		_, err = PlanPod(&m.Pods[0], "")
		assert.ErrorContains(t, err, tc.want)
	}
}

// TestPlaySharedMemoryEmptyDir: a memory emptyDir shared by two containers
// is a tmpfs volume with the size limit, held by the infra container; one
// on disk is a plain volume; a memory one of a single container stays
// its tmpfs.
func TestPlaySharedMemoryEmptyDir(t *testing.T) {
	t.Parallel()
	m, err := Decode([]byte(`apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: a, image: busybox, volumeMounts: [{name: mem, mountPath: /m}, {name: disk, mountPath: /d}, {name: own, mountPath: /o}]}
  - {name: b, image: busybox, volumeMounts: [{name: mem, mountPath: /shared}, {name: disk, mountPath: /d}]}
  volumes:
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  - {name: disk, emptyDir: {}}
  - {name: own, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
`))
	assert.NilError(t, err)
	pl, err := PlanPod(&m.Pods[0], "")
	assert.NilError(t, err)
	assert.DeepEqual(t, pl.Volumes, []Volume{
		{Name: "p-disk"},
		{Name: "p-mem", DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=67108864,mode=1777"}},
	})
	assert.DeepEqual(t, pl.Containers[0].HostConfig.Binds, []string{"p-mem:" + PodVolumesDir + "/mem"})
	assert.DeepEqual(t, pl.Containers[1].HostConfig.Binds, []string{"p-mem:/m", "p-disk:/d"})
	assert.DeepEqual(t, pl.Containers[1].HostConfig.Tmpfs, map[string]string{"/o": "size=1048576,notmpcopyup,exec,mode=1777"})
	assert.DeepEqual(t, pl.Containers[2].HostConfig.Binds, []string{"p-mem:/shared", "p-disk:/d"})
	assert.Equal(t, len(pl.Warnings), 0, "%v", pl.Warnings)
}
