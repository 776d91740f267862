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
		{"non-recursive", with(func(m *container.Mount) { m.NonRecursive = true }), true, []string{"bind", "rw", "private"}},
		{"non-recursive propagation", with(func(m *container.Mount) { m.NonRecursive, m.Propagation = true, "rslave" }), true, []string{"bind", "rw", "slave"}},
		{"non-recursive shared", with(func(m *container.Mount) { m.NonRecursive, m.Propagation = true, "shared" }), true, []string{"bind", "rw", "shared"}},
		{"ro recursive", with(func(m *container.Mount) { m.ReadOnly = true }), true, []string{"rbind", "ro", "rro", "rprivate"}},
		{"ro runtime without rro", with(func(m *container.Mount) { m.ReadOnly = true }), false, []string{"rbind", "ro", "rprivate"}},
		{"ro non-recursive", with(func(m *container.Mount) { m.ReadOnly, m.ReadOnlyNonRecursive = true, true }), true, []string{"rbind", "ro", "rprivate"}},
		{"ro bind non-recursive", with(func(m *container.Mount) { m.ReadOnly, m.NonRecursive = true, true }), true, []string{"bind", "ro", "private"}},
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

// TestBuildPropagation: binds and volumes with shared propagation are
// bound from the staging path where the shim attaches the daemon's clone
// of their source (recursive unless NonRecursive), the others from their
// source; the root propagation follows Docker's choice.
func TestBuildPropagation(t *testing.T) {
	t.Parallel()
	bind := func(dst, prop string, nonRec bool) container.Mount {
		return container.Mount{Type: container.MountBind, Source: "/srv" + dst, Destination: dst, Propagation: prop, NonRecursive: nonRec}
	}
	for _, tc := range []struct {
		name    string
		mounts  []container.Mount
		shared  []shim.SharedBind
		sources map[string]string // destination -> source in the spec
		root    string
	}{
		{name: "none", root: ""},
		{name: "private bind", mounts: []container.Mount{bind("/a", "", false)},
			sources: map[string]string{"/a": "/srv/a"}},
		{name: "rslave bind", mounts: []container.Mount{bind("/a", "rslave", false), bind("/b", "rprivate", false)},
			sources: map[string]string{"/a": "/srv/a", "/b": "/srv/b"}, root: "rslave"},
		{name: "rshared and slave binds", mounts: []container.Mount{bind("/a", "slave", false), bind("/b", "rshared", false), bind("/c", "shared", true)},
			shared: []shim.SharedBind{
				{Destination: "/b", Source: "/srv/b", Staging: SharedStaging(defaults.ShimDir, 1), Recursive: true},
				{Destination: "/c", Source: "/srv/c", Staging: SharedStaging(defaults.ShimDir, 2)},
			},
			sources: map[string]string{"/a": "/srv/a", "/b": SharedStaging(defaults.ShimDir, 1), "/c": SharedStaging(defaults.ShimDir, 2)}, root: "shared"},
		{name: "rshared volume", mounts: []container.Mount{{Type: container.MountVolume, VolumeName: "data", Destination: "/v", Propagation: "rshared", Mode: "rshared,nocopy", Driver: "local"}},
			shared:  []shim.SharedBind{{Destination: "/v", Source: defaults.VolumePath("data"), Staging: SharedStaging(defaults.ShimDir, 0), Recursive: true}},
			sources: map[string]string{"/v": SharedStaging(defaults.ShimDir, 0)}, root: "shared"},
		{name: "tmpfs propagation does not count", root: "",
			mounts: []container.Mount{{Type: container.MountTmpfs, Destination: "/t", Propagation: "rshared", Tmpfs: &container.Tmpfs{}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &container.Container{ID: "c1", Config: &containertypes.Config{Image: "busybox", Cmd: []string{"true"}}, HostConfig: &containertypes.HostConfig{}, Mounts: tc.mounts}
			cfg, in := Build(c, defaults)
			assert.DeepEqual(t, cfg.SharedBinds, tc.shared)
			assert.Equal(t, in.RootfsPropagation, tc.root)
			for _, m := range in.Mounts {
				if want, ok := tc.sources[m.Destination]; ok {
					assert.Equal(t, m.Source, want, m.Destination)
					delete(tc.sources, m.Destination)
				}
			}
			assert.Check(t, len(tc.sources) == 0, "not in the spec: %v", tc.sources)
		})
	}
}
