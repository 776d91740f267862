package network

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
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

// Endpoints are persisted one file per container: a change writes only
// that container's file, Forget deletes it, and endpoints in the networks
// file (from before) move to the files at open.
func TestStoreEndpointFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "networks.json")
	epFile := func(id string) string { return filepath.Join(dir, "network-endpoints", id+".json") }
	s, err := New(path, time.Now(), DefaultBridge{})
	assert.NilError(t, err)
	_, err = s.Connect("none", "c1", "/one", nil, netip.Addr{})
	assert.NilError(t, err)
	_, err = s.Connect("none", "c2", "/two", nil, netip.Addr{})
	assert.NilError(t, err)
	data, err := os.ReadFile(epFile("c1"))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(data), `"ContainerName":"one"`))
	assert.Check(t, !strings.Contains(string(data), "two"), "c1's file holds another container: %s", data)
	_, err = os.Stat(path)
	assert.Check(t, os.IsNotExist(err), "an endpoint change wrote the networks file")

	assert.NilError(t, s.Forget("c1"))
	_, err = os.Stat(epFile("c1"))
	assert.Check(t, os.IsNotExist(err), "Forget left the file")
	// A file whose networks are all gone, and an unfinished write.
	assert.NilError(t, os.WriteFile(epFile("c3"), []byte(`{"`+strings.Repeat("f", 64)+`":{"ContainerName":"x"}}`), 0o600))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "network-endpoints", ".c2.json.tmp-1"), []byte("{"), 0o600))

	s2, err := New(path, time.Now(), DefaultBridge{})
	assert.NilError(t, err)
	none, err := s2.Get("none")
	assert.NilError(t, err)
	_, has2 := none.Endpoints["c2"]
	assert.Check(t, len(none.Endpoints) == 1 && has2, "endpoints after reopen: %v", none.Endpoints)
	entries, err := os.ReadDir(filepath.Join(dir, "network-endpoints"))
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 1, "leftovers kept: %v", entries)

	// The networks file of an older berthd, with endpoints in it.
	legacyDir := t.TempDir()
	legacy := filepath.Join(legacyDir, "networks.json")
	assert.NilError(t, os.WriteFile(legacy, []byte(`{"Networks":[{"Name":"none","ID":"`+PredefinedID("none")+`","Driver":"null","Created":"2024-01-01T00:00:00Z","Endpoints":{"old":{"ContainerName":"old"}}}]}`), 0o600))
	s3, err := New(legacy, time.Now(), DefaultBridge{})
	assert.NilError(t, err)
	assert.Check(t, is.Len(s3.OfContainer("old"), 1))
	_, err = os.Stat(filepath.Join(legacyDir, "network-endpoints", "old.json"))
	assert.NilError(t, err)
	data, err = os.ReadFile(legacy)
	assert.NilError(t, err)
	assert.Check(t, !strings.Contains(string(data), "old"), "endpoints left in the networks file: %s", data)
	s4, err := New(legacy, time.Now(), DefaultBridge{})
	assert.NilError(t, err)
	assert.Check(t, is.Len(s4.OfContainer("old"), 1))
}
