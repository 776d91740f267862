package container

import (
	"testing"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
)

func TestStoreResolution(t *testing.T) {
	t.Parallel()
	s := NewStore()
	a := &Container{ID: "abc123", Name: "/web", Created: time.Unix(1, 0)}
	b := &Container{ID: "abd456", Name: "/db", Created: time.Unix(2, 0)}
	for _, c := range []*Container{a, b} {
		assert.NilError(t, s.Reserve(c.Name, c.ID))
		s.Add(c)
	}
	for ref, want := range map[string]*Container{"abc123": a, "web": a, "/web": a, "abc": a, "abd": b, "db": b} {
		got, err := s.Get(ref)
		assert.NilError(t, err, ref)
		assert.Equal(t, got, want, ref)
	}
	_, err := s.Get("ab")
	assert.Assert(t, errdefs.IsInvalidArgument(err), "%v", err)
	_, err = s.Get("zzz")
	assert.Assert(t, errdefs.IsNotFound(err))
	assert.ErrorContains(t, err, "No such container: zzz")
	err = s.Reserve("/web", "other")
	assert.Assert(t, errdefs.IsConflict(err))
	assert.ErrorContains(t, err, `The container name "/web" is already in use`)

	list := s.List()
	assert.Equal(t, list[0], b, "newest first")
	s.Delete(a)
	_, err = s.Get("web")
	assert.Assert(t, errdefs.IsNotFound(err))
	assert.NilError(t, s.Reserve("/web", "other"))
}

func TestContainerPersistence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := &Container{
		ID: "abc", Name: "/x", Root: dir,
		Config:     &containertypes.Config{Image: "busybox", Cmd: []string{"sh"}},
		HostConfig: &containertypes.HostConfig{ReadonlyRootfs: true, Tmpfs: map[string]string{"/run": ""}},
		Mounts:     []Mount{{Type: MountTmpfs, Destination: "/run", Tmpfs: &Tmpfs{Mode: 0o755, CopyUp: true}}},
		State:      State{Status: containertypes.StateCreated},
		User:       ExecUser{UID: 1000, GID: 1000, AdditionalGids: []int{5}, Home: "/home/app"},
	}
	assert.NilError(t, c.ToDisk())
	got, err := FromDisk(dir)
	assert.NilError(t, err)
	assert.Equal(t, got.Root, dir)
	assert.DeepEqual(t, got.HostConfig.Tmpfs, c.HostConfig.Tmpfs)
	assert.Equal(t, got.Mounts[0].Tmpfs.Mode, uint32(0o755))
	assert.Assert(t, got.ReadonlyRootfs())
	assert.Equal(t, got.State.Status, containertypes.StateCreated)
	assert.DeepEqual(t, got.User, c.User)
}
