package daemon

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/container"
)

func TestCheckRequestedVolumes(t *testing.T) {
	t.Parallel()
	anon := container.Mount{Type: container.MountVolume, Destination: "/p", Anonymous: true, Driver: "local"}
	tmpfs := container.Mount{Type: container.MountTmpfs, Destination: "/p", Tmpfs: &container.Tmpfs{}}
	apiTmpfs := tmpfs
	apiTmpfs.FromAPIMounts = true
	bind := container.Mount{Type: container.MountBind, Destination: "/p", Source: "/srv"}
	named := container.Mount{Type: container.MountVolume, Destination: "/p", VolumeName: "data", Source: "data", Driver: "local"}
	apiVolume := container.Mount{Type: container.MountVolume, Destination: "/p", Anonymous: true, Driver: "local", FromAPIMounts: true}
	vols := func(v ...string) *containertypes.Config {
		c := &containertypes.Config{Volumes: map[string]struct{}{}}
		for _, p := range v {
			c.Volumes[p] = struct{}{}
		}
		return c
	}
	tests := []struct {
		name    string
		req     *containertypes.Config
		mounts  []container.Mount
		wantErr string
	}{
		{"no request", nil, []container.Mount{tmpfs}, ""},
		{"image volume replaced by tmpfs", vols(), []container.Mount{tmpfs}, ""},
		{"requested volume alone", vols("/p"), []container.Mount{anon}, ""},
		{"requested volume and --tmpfs", vols("/p"), []container.Mount{tmpfs}, "Duplicate mount point: /p"},
		{"requested volume uncleaned", vols("/p/"), []container.Mount{apiTmpfs}, "Duplicate mount point: /p"},
		{"requested volume and bind", vols("/p"), []container.Mount{bind}, "Duplicate mount point: /p"},
		{"requested volume and named", vols("/p"), []container.Mount{named}, "Duplicate mount point: /p"},
		{"requested volume and --mount volume", vols("/p"), []container.Mount{apiVolume}, "Duplicate mount point: /p"},
		{"other destination", vols("/q"), []container.Mount{tmpfs}, ""},
		{"relative is resolveMounts' job", vols("p"), []container.Mount{tmpfs}, ""},
	}
	for _, tc := range tests {
		err := checkRequestedVolumes(tc.req, tc.mounts)
		if tc.wantErr == "" {
			assert.NilError(t, err, tc.name)
			continue
		}
		assert.ErrorContains(t, err, tc.wantErr, tc.name)
		assert.Assert(t, errdefs.IsInvalidArgument(err), tc.name)
	}
}

func TestMountpointsRefuseDanglingLink(t *testing.T) {
	t.Parallel()
	img := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(img, "run", "real"), 0o755))
	assert.NilError(t, os.Symlink("../../../../host", filepath.Join(img, "run", "dangling")))
	assert.NilError(t, os.Symlink("real", filepath.Join(img, "run", "good")))
	layer := t.TempDir()
	mp := mountpoints{img: imageFS{layers: []string{img}}, layer: layer}

	for _, p := range []string{"/run/dangling", "/run/dangling/x", "/run/dangling/x/y"} {
		err := mp.ensure(p, false)
		assert.ErrorContains(t, err, "/run/dangling is a symbolic link in the image to a path that does not exist", p)
		assert.Assert(t, errdefs.IsInvalidArgument(err), p)
	}
	_, err := os.Lstat(filepath.Join(layer, "run", "dangling"))
	assert.Assert(t, os.IsNotExist(err), "the link was hidden by a directory in the layer")

	// A link that leads somewhere is followed inside the image.
	assert.NilError(t, mp.ensure("/run/good/x", false))
	st, err := os.Stat(filepath.Join(layer, "run", "real", "x"))
	assert.NilError(t, err)
	assert.Assert(t, st.IsDir())
}

func TestStatfsUsage(t *testing.T) {
	t.Parallel()
	size, used, err := statfsUsage("/dev/shm")
	assert.NilError(t, err)
	assert.Assert(t, size > 0 && used >= 0 && used <= size, "size %d used %d", size, used)

	_, _, err = statfsUsage(t.TempDir())
	if err == nil {
		t.Log("the temporary directory is on a tmpfs here")
	} else {
		assert.ErrorContains(t, err, "not a tmpfs")
	}
	_, _, err = statfsUsage(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorContains(t, err, "statfs")
	assert.Equal(t, tmpfsStaging("/x/containers/c", 3), "/x/containers/c/tmpfs/3")
}
