package integration

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/volume"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestEngineVolumes: binds, named and anonymous volumes, the image's
// content copied into a new volume, rm -v, depth ordering, duplicates and
// the volume API and CLI.
func TestEngineVolumes(t *testing.T) {
	d := harness.NewWithImage(t)
	run := func(args ...string) string {
		t.Helper()
		return d.OK(t, append([]string{"run", "--rm", "--network", "none"}, args...)...)
	}
	host := t.TempDir()

	t.Run("bind", func(t *testing.T) {
		assert.NilError(t, os.WriteFile(filepath.Join(host, "in"), []byte("from-host\n"), 0o644))
		assert.Equal(t, run("-v", host+":/mnt", "busybox", "sh", "-c", "cat /mnt/in; echo from-ctr > /mnt/out"), "from-host")
		data, err := os.ReadFile(filepath.Join(host, "out"))
		assert.NilError(t, err)
		assert.Equal(t, string(data), "from-ctr\n")

		res := d.Berth(t, "run", "--rm", "--network", "none", "-v", host+":/mnt:ro", "busybox", "touch", "/mnt/x")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Assert(t, is.Contains(res.Stderr, "Read-only file system"))
		res = d.Berth(t, "run", "--rm", "--network", "none", "--mount", "type=bind,source="+host+",target=/mnt,readonly", "busybox", "touch", "/mnt/x")
		assert.Assert(t, is.Contains(res.Stderr, "Read-only file system"))
		assert.Equal(t, run("--mount", "type=bind,src="+host+",dst=/mnt", "busybox", "cat", "/mnt/out"), "from-ctr")

		// -v creates a missing host directory; --mount refuses it.
		missing := filepath.Join(host, "new", "dir")
		run("-v", missing+":/mnt", "busybox", "true")
		st, err := os.Stat(missing)
		assert.NilError(t, err)
		assert.Assert(t, st.IsDir())
		res = d.Berth(t, "run", "--rm", "--network", "none", "--mount", "type=bind,src="+filepath.Join(host, "nope")+",dst=/mnt", "busybox", "true")
		assert.Equal(t, res.ExitCode, 125, res.Combined())
		assert.Assert(t, is.Contains(res.Stderr, "bind source path does not exist"))
	})

	t.Run("named volume gets the image's content", func(t *testing.T) {
		out := run("-v", "appdata:/run/app", "busybox", "sh", "-c", "stat -c '%a %u:%g' /run/app; cat /run/app/config; readlink /run/app/link; echo mine > /run/app/mine")
		assert.Equal(t, out, "750 1000:1000\nimage-config\nconfig")
		assert.Equal(t, d.OK(t, "volume", "ls", "-q"), "appdata")
		// Not copied again into a volume that holds data; the data outlives
		// the container.
		out = run("--mount", "type=volume,src=appdata,dst=/run/app", "busybox", "sh", "-c", "cat /run/app/mine; ls /run/app | wc -l")
		assert.Equal(t, out, "mine\n3")
		// A volume that has data is never overwritten by an image path.
		d.OK(t, "volume", "create", "filled")
		run("-v", "filled:/elsewhere", "busybox", "sh", "-c", "echo marker > /elsewhere/marker")
		assert.Equal(t, run("-v", "filled:/run/app", "busybox", "ls", "/run/app"), "marker")
		// nocopy keeps a new volume empty.
		assert.Equal(t, run("-v", "empty:/run/app:nocopy", "busybox", "ls", "-A", "/run/app"), "")
		assert.Equal(t, run("--mount", "type=volume,src=empty2,dst=/run/app,volume-nocopy", "busybox", "ls", "-A", "/run/app"), "")
		// A read-only volume mount.
		res := d.Berth(t, "run", "--rm", "--network", "none", "-v", "appdata:/data:ro", "busybox", "touch", "/data/x")
		assert.Assert(t, is.Contains(res.Stderr, "Read-only file system"), res.Combined())
	})

	t.Run("anonymous volumes and rm -v", func(t *testing.T) {
		d.OK(t, "run", "--name", "anon", "--network", "none", "-v", "/run/app", "busybox", "cat", "/run/app/config")
		name := d.Inspect(t, "anon", "{{range .Mounts}}{{.Name}}{{end}}")
		assert.Equal(t, len(name), 64, "an anonymous volume has a random name: %q", name)
		assert.Equal(t, d.OK(t, "logs", "anon"), "image-config", "an anonymous volume gets the image's content too")
		assert.Equal(t, d.OK(t, "volume", "inspect", "--format", "{{.Name}} {{.Driver}}", name), name+" local")
		res := d.Berth(t, "volume", "rm", name)
		assert.Assert(t, res.ExitCode != 0, "a volume in use must not be removed")
		assert.Assert(t, is.Contains(res.Stderr, "in use"))

		d.OK(t, "rm", "-v", "anon")
		res = d.Berth(t, "volume", "inspect", name)
		assert.Assert(t, res.ExitCode != 0, "rm -v must remove the anonymous volume")
		_, err := os.Stat(filepath.Join(d.DataRoot, "volumes", name))
		assert.Assert(t, os.IsNotExist(err))

		d.OK(t, "create", "--name", "keep", "--network", "none", "-v", "/x", "-v", "kept:/y", "busybox", "true")
		anon := d.Inspect(t, "keep", `{{range .Mounts}}{{if eq .Destination "/x"}}{{.Name}}{{end}}{{end}}`)
		d.OK(t, "rm", "keep")
		d.OK(t, "volume", "inspect", anon) // rm without -v keeps it
		d.OK(t, "rm", "-fv", d.OK(t, "create", "--network", "none", "-v", "kept:/y", "busybox", "true"))
		d.OK(t, "volume", "inspect", "kept") // -v never removes a named volume
		d.OK(t, "volume", "rm", anon, "kept")
	})

	t.Run("image VOLUME", func(t *testing.T) {
		res := d.BerthIn(t, string(engRootfsTar(t)), "import", "--change", "VOLUME /data", "-", "withvol")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		d.OK(t, "run", "--name", "iv", "--network", "none", "withvol", "sh", "-c", "cat /data/sub/deep; stat -c '%a %u' /data /data/sub")
		assert.Equal(t, d.OK(t, "logs", "iv"), "deep\n750 1000\n700 1000")
		name := d.Inspect(t, "iv", `{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}`)
		f := strings.Fields(name)
		assert.Equal(t, len(f), 3, name)
		assert.Equal(t, f[0]+" "+f[2], "volume /data")
		d.OK(t, "volume", "inspect", f[1])
		// A bind on the image's volume path replaces the volume.
		assert.Equal(t, run("-v", host+":/data", "withvol", "cat", "/data/in"), "from-host")
		d.OK(t, "rm", "-v", "iv")
		assert.Equal(t, d.Berth(t, "volume", "inspect", f[1]).ExitCode, 1)
	})

	t.Run("mounts are ordered by depth", func(t *testing.T) {
		outer := t.TempDir()
		// The nested mount comes first: it must still end up on top.
		run("-v", "inner:/a/b", "-v", outer+":/a", "busybox", "sh", "-c", "echo nested > /a/b/f; echo top > /a/g")
		_, err := os.Stat(filepath.Join(outer, "b", "f"))
		assert.Assert(t, os.IsNotExist(err), "the nested volume was hidden by its parent's bind")
		assert.Equal(t, run("-v", "inner:/v", "busybox", "cat", "/v/f"), "nested")
		data, err := os.ReadFile(filepath.Join(outer, "g"))
		assert.NilError(t, err)
		assert.Equal(t, string(data), "top\n")
	})

	t.Run("duplicate mount point", func(t *testing.T) {
		before := d.Snapshot(t)
		for _, args := range [][]string{
			{"-v", host + ":/data", "--mount", "type=volume,dst=/data"},
			{"-v", "a:/data", "-v", "b:/data/"},
			{"-v", host + ":/data", "--tmpfs", "/data"},
		} {
			res := d.Berth(t, append(append([]string{"run", "--rm", "--network", "none"}, args...), "busybox", "true")...)
			assert.Equal(t, res.ExitCode, 125, "%v: %s", args, res.Combined())
			assert.Assert(t, is.Contains(res.Stderr, "Duplicate mount point: /data"), "%v", args)
		}
		d.AssertUnchanged(t, before, "duplicate mount points")
	})

	t.Run("API and CLI", func(t *testing.T) {
		var v volume.Volume
		d.API(t, "POST", "/volumes/create", volume.CreateRequest{Name: "apivol", Labels: map[string]string{"team": "a"}}).Decode(t, http.StatusCreated, &v)
		assert.Equal(t, v.Name, "apivol")
		assert.Equal(t, v.Driver, "local")
		assert.Equal(t, v.Mountpoint, filepath.Join(d.DataRoot, "volumes", "apivol", "_data"))
		assert.Equal(t, v.Labels["team"], "a")
		d.API(t, "POST", "/volumes/create", volume.CreateRequest{Name: "apivol"}).Decode(t, http.StatusCreated, &v)
		assert.Equal(t, v.Labels["team"], "a", "creating an existing volume returns it unchanged")
		r := d.API(t, "POST", "/volumes/create", volume.CreateRequest{Name: "bad/name"})
		assert.Equal(t, r.Status, http.StatusBadRequest, "%s", r.Body)
		r = d.API(t, "POST", "/volumes/create", volume.CreateRequest{Name: "x1", Driver: "nfs"})
		assert.Assert(t, r.Status == http.StatusBadRequest || r.Status == http.StatusNotFound, "%d %s", r.Status, r.Body)

		var list volume.ListResponse
		d.API(t, "GET", "/volumes?filters="+url.QueryEscape(`{"label":["team=a"]}`), nil).Decode(t, http.StatusOK, &list)
		assert.Equal(t, len(list.Volumes), 1)
		assert.Equal(t, list.Volumes[0].Name, "apivol")
		d.API(t, "GET", "/volumes/apivol", nil).Decode(t, http.StatusOK, &v)
		assert.Equal(t, v.Name, "apivol")

		assert.Equal(t, d.OK(t, "volume", "create", "--label", "team=b", "clivol"), "clivol")
		assert.Equal(t, d.OK(t, "volume", "ls", "-q", "--filter", "label=team=b"), "clivol")
		assert.Equal(t, d.OK(t, "volume", "inspect", "--format", "{{.Labels.team}}", "clivol"), "b")
		assert.Equal(t, d.OK(t, "volume", "rm", "clivol"), "clivol")
		d.API(t, "DELETE", "/volumes/apivol", nil).Decode(t, http.StatusNoContent, nil)
		d.API(t, "GET", "/volumes/apivol", nil).Decode(t, http.StatusNotFound, nil)
		res := d.Berth(t, "volume", "rm", "clivol")
		assert.Equal(t, res.ExitCode, 1, res.Combined())
		assert.Assert(t, is.Contains(res.Stderr, "no such volume"))
	})
}
