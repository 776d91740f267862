package runspec

import (
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/shim"
)

func TestBindOptions(t *testing.T) {
	t.Parallel()
	bind := container.Mount{Type: container.MountBind, Source: "/srv", Destination: "/p"}
	with := func(f func(*container.Mount)) container.Mount { m := bind; f(&m); return m }
	for _, tc := range []struct {
		name string
		m    container.Mount
		rro  bool
		want []string
	}{
		{"rw", bind, true, []string{"rbind", "rw", "rprivate"}},
		{"propagation", with(func(m *container.Mount) { m.Propagation = "rshared" }), true, []string{"rbind", "rw", "rshared"}},
		{"non-recursive", with(func(m *container.Mount) { m.NonRecursive = true }), true, []string{"bind", "rw", "rprivate"}},
		{"ro recursive", with(func(m *container.Mount) { m.ReadOnly = true }), true, []string{"rbind", "ro", "rro", "rprivate"}},
		{"ro runtime without rro", with(func(m *container.Mount) { m.ReadOnly = true }), false, []string{"rbind", "ro", "rprivate"}},
		{"ro non-recursive", with(func(m *container.Mount) { m.ReadOnly, m.ReadOnlyNonRecursive = true, true }), true, []string{"rbind", "ro", "rprivate"}},
		{"ro bind non-recursive", with(func(m *container.Mount) { m.ReadOnly, m.NonRecursive = true, true }), true, []string{"bind", "ro", "rprivate"}},
		{"ro volume", with(func(m *container.Mount) { m.Type, m.ReadOnly = container.MountVolume, true }), true, []string{"rbind", "ro", "rprivate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.DeepEqual(t, bindOptions(tc.m, tc.rro), tc.want)
		})
	}
}

func TestCheckRecursiveReadOnly(t *testing.T) {
	t.Parallel()
	force := []container.Mount{{Type: container.MountBind, Destination: "/p", ReadOnly: true, ReadOnlyForceRecursive: true}}
	assert.NilError(t, CheckRecursiveReadOnly(force, true, "runc"))
	assert.NilError(t, CheckRecursiveReadOnly([]container.Mount{{Type: container.MountBind, ReadOnly: true}}, false, "crun"))
	err := CheckRecursiveReadOnly(force, false, "crun")
	assert.ErrorContains(t, err, "mount /p: ReadOnlyForceRecursive: runtime crun cannot")
	assert.Check(t, errdefs.IsInvalidArgument(err))
}

func TestBuildVolumeSubpath(t *testing.T) {
	t.Parallel()
	c := &container.Container{ID: "c1", Config: &containertypes.Config{Image: "busybox", Cmd: []string{"true"}}, HostConfig: &containertypes.HostConfig{},
		Mounts: []container.Mount{{Type: container.MountVolume, VolumeName: "data", Destination: "/p", Subpath: "a/b", Driver: "local"}}}
	cfg, in := Build(c, defaults)
	staging := SubpathStaging(defaults.ShimDir, 0)
	assert.DeepEqual(t, cfg.Subpaths, []shim.SubpathMount{{Destination: "/p", Volume: defaults.VolumePath("data"), Subpath: "a/b", Staging: staging}})
	assert.Check(t, len(cfg.Volumes) == 0, "no image content is copied into a subpath")
	found := false
	for _, m := range in.Mounts {
		if m.Destination == "/p" {
			found = true
			assert.Equal(t, m.Source, staging)
		}
	}
	assert.Check(t, found)
}
