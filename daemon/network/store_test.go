package network

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestStoreLifecycle(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "networks.json")
	s, err := New(path, time.Now(), DefaultBridge{})
	assert.NilError(t, err)

	names := func(l []Network) []string {
		var out []string
		for _, n := range l {
			out = append(out, n.Name)
		}
		return out
	}
	assert.DeepEqual(t, names(s.List()), []string{"bridge", "host", "none"})

	n, err := s.Create(CreateOptions{Subnet: netip.MustParsePrefix("10.213.250.0/24"), Name: "app_default", Labels: map[string]string{"com.docker.compose.project": "app"}})
	assert.NilError(t, err)
	assert.Equal(t, n.Driver, "bridge")
	assert.Equal(t, len(n.ID), 64)

	_, err = s.Create(CreateOptions{Name: "app_default", Subnet: netip.MustParsePrefix("10.213.251.0/24")})
	assert.Assert(t, errdefs.IsConflict(err), "%v", err)
	assert.ErrorContains(t, err, "network with name app_default already exists")
	_, err = s.Create(CreateOptions{Name: "bridge"})
	assert.Assert(t, errdefs.IsConflict(err), "%v", err)
	_, err = s.Create(CreateOptions{Name: "x", Driver: "overlay"})
	assert.Assert(t, errdefs.IsInvalidArgument(err), "%v", err)
	_, err = s.Create(CreateOptions{})
	assert.Assert(t, errdefs.IsInvalidArgument(err), "%v", err)

	got, err := s.Get(n.ID[:10])
	assert.NilError(t, err)
	assert.Equal(t, got.Name, "app_default")
	got, err = s.Get("bridge")
	assert.NilError(t, err)
	assert.Equal(t, got.ID, PredefinedID("bridge"))
	_, err = s.Get("nope")
	assert.Assert(t, errdefs.IsNotFound(err))

	_, err = s.Connect("app_default", "c1", "/web", []string{"web"}, netip.Addr{})
	assert.NilError(t, err)
	_, err = s.Connect("app_default", "c1", "/web", nil, netip.Addr{})
	assert.Assert(t, errdefs.IsPermissionDenied(err), "%v", err)
	_, err = s.Connect("bridge", "c2", "/db", nil, netip.Addr{})
	assert.NilError(t, err)
	assert.DeepEqual(t, names(s.OfContainer("c1")), []string{"app_default"})

	// Persisted: a new store sees the user network and the endpoints.
	s2, err := New(path, time.Now(), DefaultBridge{})
	assert.NilError(t, err)
	got, err = s2.Get("app_default")
	assert.NilError(t, err)
	ep := got.Endpoints["c1"]
	assert.Equal(t, ep.ContainerName, "web")
	assert.DeepEqual(t, ep.Aliases, []string{"web"})
	assert.Check(t, !ep.Attached())
	assert.Check(t, is.Len(s2.OfContainer("c2"), 1))

	// A rename reaches every endpoint of the container, persisted.
	assert.NilError(t, s.Rename("c1", "/web2"))
	s3, err := New(path, time.Now(), DefaultBridge{})
	assert.NilError(t, err)
	got, err = s3.Get("app_default")
	assert.NilError(t, err)
	assert.Equal(t, got.Endpoints["c1"].ContainerName, "web2")
	assert.NilError(t, s.Rename("c1", "/web"))

	_, err = s.Remove("app_default", func(string) bool { return true })
	assert.ErrorContains(t, err, "has active endpoints")
	_, err = s.Disconnect("app_default", "c1")
	assert.NilError(t, err)
	_, err = s.Disconnect("app_default", "c1")
	assert.ErrorContains(t, err, "is not connected to network app_default")

	_, err = s.Remove("bridge", func(string) bool { return false })
	assert.Assert(t, errdefs.IsPermissionDenied(err))
	assert.ErrorContains(t, err, "bridge is a pre-defined network and cannot be removed")
	_, err = s.Remove("app_default", func(string) bool { return false })
	assert.NilError(t, err)
	assert.DeepEqual(t, names(s.List()), []string{"bridge", "host", "none"})

	assert.NilError(t, s.Forget("c2"))
	assert.Check(t, is.Len(s.OfContainer("c2"), 0))
}

// OfContainer gives each network with the asking container's endpoint
// only, as copies the caller may change.
func TestOfContainerOwnEndpointOnly(t *testing.T) {
	t.Parallel()
	s, err := New(filepath.Join(t.TempDir(), "networks.json"), time.Now(), DefaultBridge{})
	assert.NilError(t, err)
	_, err = s.Create(CreateOptions{Subnet: netip.MustParsePrefix("10.213.250.0/24"), Name: "app"})
	assert.NilError(t, err)
	for _, c := range []struct{ id, name, net string }{{"c1", "/web", "app"}, {"c2", "/db", "app"}, {"c1", "/web", "none"}, {"c3", "/x", "none"}} {
		_, err = s.Connect(c.net, c.id, c.name, []string{c.name[1:]}, netip.Addr{})
		assert.NilError(t, err)
	}
	got := s.OfContainer("c1")
	assert.Assert(t, is.Len(got, 2))
	for _, n := range got {
		assert.Check(t, is.Len(n.Endpoints, 1), n.Name)
		assert.Check(t, is.Equal(n.Endpoints["c1"].ContainerName, "web"), n.Name)
		ep := n.Endpoints["c1"]
		ep.Aliases[0] = "changed"
		n.Endpoints["other"] = Endpoint{}
	}
	full, err := s.Get("app")
	assert.NilError(t, err)
	assert.Check(t, is.Len(full.Endpoints, 2))
	assert.Check(t, is.DeepEqual(full.Endpoints["c1"].Aliases, []string{"web"}))
	assert.Check(t, is.Len(s.OfContainer("nobody"), 0))
}
