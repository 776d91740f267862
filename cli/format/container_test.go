package format

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestContainerFields(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := containertypes.Summary{
		ID:      "4f66ad9a0b2e1234567890abcdef",
		Names:   []string{"/web", "/other/alias"},
		Image:   "docker.io/library/nginx:latest",
		Command: "/docker-entrypoint.sh nginx -g 'daemon off;'",
		Created: now.Add(-2 * time.Minute).Unix(),
		Status:  "Up 3 seconds",
		State:   containertypes.StateRunning,
		Labels:  map[string]string{"b": "2", "a": "1"},
		Ports: []containertypes.PortSummary{
			{IP: netip.MustParseAddr("0.0.0.0"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
			{IP: netip.MustParseAddr("::"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
			{PrivatePort: 443, Type: "tcp"},
		},
	}
	tr := Container{C: c, Trunc: true, Now: now}
	assert.Check(t, is.Equal(tr.ID(), "4f66ad9a0b2e"))
	assert.Check(t, is.Equal(tr.Names(), "web"))
	assert.Check(t, is.Equal(tr.Image(), "nginx:latest"))
	assert.Check(t, is.Equal(tr.Command(), `"/docker-entrypoint.…"`))
	assert.Check(t, is.Equal(tr.RunningFor(), "2 minutes ago"))
	assert.Check(t, is.Equal(tr.Status(), "Up 3 seconds"))
	assert.Check(t, is.Equal(tr.State(), "running"))
	assert.Check(t, is.Equal(tr.Labels(), "a=1,b=2"))
	assert.Check(t, is.Equal(tr.Label("b"), "2"))
	assert.Check(t, is.Equal(tr.Ports(), "0.0.0.0:8080->80/tcp, 443/tcp, [::]:8080->80/tcp"))

	full := Container{C: c, Trunc: false, Now: now}
	assert.Check(t, is.Equal(full.ID(), c.ID))
	assert.Check(t, is.Equal(full.Names(), "web,other/alias"))
	assert.Check(t, is.Equal(full.Image(), c.Image))
	assert.Check(t, is.Equal(full.Command(), `"/docker-entrypoint.sh nginx -g 'daemon off;'"`))

	sha := Container{C: containertypes.Summary{Image: "sha256:0123456789abcdef01"}, Trunc: true}
	assert.Check(t, is.Equal(sha.Image(), "0123456789ab"))
	created := Container{C: containertypes.Summary{State: containertypes.StateCreated}}
	assert.Check(t, is.Equal(created.Status(), "Created"))

	b, err := json.Marshal(tr)
	assert.NilError(t, err)
	var m map[string]string
	assert.NilError(t, json.Unmarshal(b, &m))
	assert.Check(t, is.Equal(m["Names"], "web"))
	assert.Check(t, is.Equal(m["RunningFor"], "2 minutes ago"))
}

func TestContainerTable(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var out bytes.Buffer
	w, err := NewWriter(&out, ContainerTableFormat, ContainerHeader)
	assert.NilError(t, err)
	assert.NilError(t, w.Write(Container{Trunc: true, Now: now, C: containertypes.Summary{
		ID: "0123456789abcdef", Names: []string{"/c1"}, Image: "busybox", Command: "sleep 60",
		Created: now.Add(-3 * time.Second).Unix(), Status: "Up 2 seconds",
	}}))
	assert.NilError(t, w.Flush())
	assert.Check(t, is.Equal(out.String(),
		"CONTAINER ID   IMAGE     COMMAND      CREATED         STATUS         PORTS     NAMES\n"+
			"0123456789ab   busybox   \"sleep 60\"   3 seconds ago   Up 2 seconds             c1\n"))
}

func TestImageRows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	img := image.Summary{
		ID:       "sha256:af4709625109a2b9c4ea1b6d8bd3e4d7b1d3f2c8e7a6b5c4d3e2f1a0b9c8d7e6",
		RepoTags: []string{"busybox:latest", "localhost:5000/bb:1.36"},
		Created:  now.Add(-14 * 24 * time.Hour).Unix(),
		Size:     4_266_123,
	}
	rows := ImageRows(img, true, now)
	assert.Assert(t, is.Len(rows, 2))
	assert.Check(t, is.Equal(rows[0].Repository(), "busybox"))
	assert.Check(t, is.Equal(rows[0].Tag(), "latest"))
	assert.Check(t, is.Equal(rows[1].Repository(), "localhost:5000/bb"))
	assert.Check(t, is.Equal(rows[1].Tag(), "1.36"))
	assert.Check(t, is.Equal(rows[0].ID(), "af4709625109"))
	assert.Check(t, is.Equal(rows[0].CreatedSince(), "2 weeks ago"))
	assert.Check(t, is.Equal(rows[0].Size(), "4.27MB"))

	untagged := ImageRows(image.Summary{ID: "sha256:abc"}, false, now)
	assert.Assert(t, is.Len(untagged, 1))
	assert.Check(t, is.Equal(untagged[0].Repository(), "<none>"))
	assert.Check(t, is.Equal(untagged[0].Tag(), "<none>"))
	assert.Check(t, is.Equal(untagged[0].ID(), "sha256:abc"))

	var out bytes.Buffer
	w, err := NewWriter(&out, ImageTableFormat, ImageHeader)
	assert.NilError(t, err)
	assert.NilError(t, w.Write(rows[0]))
	assert.NilError(t, w.Flush())
	assert.Check(t, is.Equal(out.String(),
		"REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n"+
			"busybox      latest    af4709625109   2 weeks ago   4.27MB\n"))
}

func TestSplitRepoTag(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, repo, tag string }{
		{"busybox:latest", "busybox", "latest"},
		{"busybox", "busybox", ""},
		{"localhost:5000/a/b:c", "localhost:5000/a/b", "c"},
		{"localhost:5000/a", "localhost:5000/a", ""},
		{"<none>:<none>", "<none>", "<none>"},
	}
	for _, tc := range tests {
		repo, tag := SplitRepoTag(tc.in)
		assert.Check(t, is.Equal(repo, tc.repo), tc.in)
		assert.Check(t, is.Equal(tag, tc.tag), tc.in)
	}
}
