package kube

import (
	"testing"

	volumetypes "github.com/moby/moby/api/types/volume"
	"gotest.tools/v3/assert"
	corev1 "k8s.io/api/core/v1"
)

func TestTmpfsVolumeOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		o    string
		size int64
		lost []string
		err  string
	}{
		{o: "", size: 0},
		{o: "size=1048576,mode=1777", size: 1 << 20},
		{o: "size=64m,mode=777,rw,exec,nosuid,nodev", size: 64 << 20},
		{o: "nr_blocks=2", size: 2 * 4096},
		{o: "size=0", size: 0},
		{o: "size=50%", lost: []string{"size=50% (a percentage of the memory: no sizeLimit)"}},
		{o: "size=1m,ro,noexec,mode=700,uid=1000,gid=1000", size: 1 << 20,
			lost: []string{"ro", "noexec (an emptyDir is mounted exec)", "mode=700", "uid=1000", "gid=1000"}},
		{o: "mpol=bind:0,2,huge=always,noswap,inode64", lost: []string{"mpol=bind:0,2", "huge=always", "noswap", "inode64"}},
		{o: "size=abc", err: "size"},
	} {
		size, lost, err := tmpfsVolumeOptions(tc.o, 4096)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.o)
			continue
		}
		assert.NilError(t, err, tc.o)
		assert.Equal(t, size, tc.size, tc.o)
		assert.DeepEqual(t, lost, tc.lost)
	}
}

func TestEmptyDirName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    volumetypes.Volume
		want string
	}{
		{volumetypes.Volume{Name: "cache"}, "cache"},
		{volumetypes.Volume{Name: "My_Cache"}, "my-cache"},
		{volumetypes.Volume{Name: "mem-cache", Labels: map[string]string{PodLabel: "mem"}}, "cache"},
		{volumetypes.Volume{Name: "mem-cache", Labels: map[string]string{PodLabel: "other"}}, "mem-cache"},
		{volumetypes.Volume{Name: "mem-", Labels: map[string]string{PodLabel: "mem"}}, "mem"},
		{volumetypes.Volume{Name: "___"}, "volume"},
	} {
		assert.Equal(t, emptyDirName(tc.v), tc.want, tc.v.Name)
	}
}

func TestIsTmpfsVolume(t *testing.T) {
	t.Parallel()
	assert.Assert(t, IsTmpfsVolume(volumetypes.Volume{Driver: "local", Options: map[string]string{"type": "tmpfs"}}))
	assert.Assert(t, !IsTmpfsVolume(volumetypes.Volume{Driver: "local"}))
	assert.Assert(t, !IsTmpfsVolume(volumetypes.Volume{Driver: "local", Options: map[string]string{"type": "none", "device": "/srv", "o": "bind"}}))
	assert.Assert(t, !IsTmpfsVolume(volumetypes.Volume{Driver: "other", Options: map[string]string{"type": "tmpfs"}}))
}

// TestGenerateVolumeNamesDoNotCollide gives a tmpfs volume whose emptyDir
// name is that of another pod volume a name of its own.
func TestGenerateVolumeNamesDoNotCollide(t *testing.T) {
	t.Parallel()
	cs := loadFixtures(t, "mem-b")
	vols := loadVolumes(t, "mem-volumes")
	// The tmpfs volume "volume-logs" and the claim "logs" (pod volume
	// volume-logs); and the labelled "mem-scratch" whose emptyDir would
	// be "scratch", like the unlabelled "scratch".
	cs[0].Mounts = append(cs[0].Mounts, cs[0].Mounts[0], cs[0].Mounts[0])
	cs[0].Mounts[3].Name, cs[0].Mounts[3].Destination = "volume-logs", "/vl"
	cs[0].Mounts[4].Name, cs[0].Mounts[4].Destination = "mem-scratch", "/ms"
	vols["volume-logs"] = volumetypes.Volume{Name: "volume-logs", Driver: "local", Options: map[string]string{"type": "tmpfs"}}
	vols["mem-scratch"] = volumetypes.Volume{Name: "mem-scratch", Driver: "local", Labels: map[string]string{PodLabel: "mem"}, Options: map[string]string{"type": "tmpfs"}}
	r, err := Generate(cs, vols, Options{})
	assert.NilError(t, err)
	pod := r.Objects[0].(*corev1.Pod)
	mounts := map[string]string{}
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	assert.DeepEqual(t, mounts, map[string]string{
		"/shared": "cache", "/scratch": "scratch", "/logs": "volume-logs", "/vl": "volume-logs-2", "/ms": "scratch-2",
	})
	kinds := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		kinds[v.Name] = "emptyDir"
		if v.PersistentVolumeClaim != nil {
			kinds[v.Name] = "claim " + v.PersistentVolumeClaim.ClaimName
		}
	}
	assert.DeepEqual(t, kinds, map[string]string{
		"cache": "emptyDir", "scratch": "emptyDir", "volume-logs": "claim logs", "volume-logs-2": "emptyDir", "scratch-2": "emptyDir",
	})
}
