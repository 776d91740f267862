package integration

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestCommandsDockerCLI drives Docker's everyday commands with both docker
// CLIs: rename (and its event), diff, commit then run, export, history,
// save then load, the prunes (what they free and what they keep), system
// df, plugins, swarm's refusal and build's 501.
func TestCommandsDockerCLI(t *testing.T) {
	tg := harness.NewTarget(t)
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		dir := t.TempDir()
		since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)

		// rename, its conflict and its event.
		a := c.RunDetached(t, "a")
		other := c.RunDetached(t, "other")
		renamed := c.Name("renamed")
		c.OK(t, "rename", a, renamed)
		assert.Equal(t, c.Inspect(t, renamed, "{{.Name}}"), "/"+renamed)
		c.Fails(t, 1, "is already in use", "rename", renamed, other)
		c.Fails(t, 1, "No such object", "inspect", a)
		until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
		ev := c.OK(t, "events", "--since", since, "--until", until, "--filter", "event=rename",
			"--format", "{{.Action}} {{.Actor.Attributes.oldName}} {{.Actor.Attributes.name}}")
		assert.Check(t, is.Contains(ev, "rename /"+a+" "+renamed+"\n"))

		// diff of a writable container; none for a read-only one.
		w := c.Name("w")
		c.OK(t, "run", "--name", w, "busybox", "sh", "-c", "echo x > /tmp/new; rm /etc/group; mkdir /data")
		diff := c.OK(t, "diff", w)
		for _, want := range []string{"C /tmp\n", "A /tmp/new\n", "C /etc\n", "D /etc/group\n", "A /data\n"} {
			assert.Check(t, is.Contains(diff, want))
		}
		ro := c.Name("ro")
		c.OK(t, "run", "--name", ro, "--read-only", "--tmpfs", "/tmp", "busybox", "sh", "-c", "echo x > /tmp/y")
		assert.Equal(t, c.OK(t, "diff", ro), "")

		// commit with changes, then run the new image.
		img := c.Name("img") + ":v1"
		id := strings.TrimSpace(c.OK(t, "commit", "-c", "ENV FOO=bar", "-c", `CMD ["cat", "/tmp/new"]`, "-m", "a message", "-a", "me", w, img))
		assert.Check(t, strings.HasPrefix(id, "sha256:"), id)
		assert.Equal(t, c.OK(t, "run", "--rm", img), "x\n")
		assert.Equal(t, c.OK(t, "run", "--rm", img, "sh", "-c", "echo $FOO; test -e /etc/group || echo gone; test -d /data && echo data"), "bar\ngone\ndata\n")
		assert.Equal(t, c.OK(t, "image", "inspect", "--format", "{{.Comment}} {{.Author}} {{len .RootFS.Layers}}", img), "a message me 2\n")
		hist := c.OK(t, "history", "--format", "{{.Comment}}|{{.CreatedBy}}", img)
		assert.Check(t, strings.HasPrefix(hist, "a message|sh -c echo x > /tmp/new"), hist)
		// The second entry is the parent's: the image committed on.
		assert.Equal(t, strings.Split(c.OK(t, "history", "-q", img), "\n")[1], strings.TrimSpace(c.OK(t, "images", "-q", "busybox")))
		// A read-only container's commit is its image with a new config.
		roImg := c.Name("roimg")
		c.OK(t, "commit", "-c", "LABEL committed=yes", ro, roImg)
		assert.Equal(t, c.OK(t, "image", "inspect", "--format", "{{.Config.Labels.committed}} {{len .RootFS.Layers}}", roImg), "yes 1\n")

		// export: the container's files, without what it deleted.
		tarFile := filepath.Join(dir, "export.tar")
		c.OK(t, "export", "-o", tarFile, w)
		names := tarNames(t, tarFile)
		assert.Check(t, slices.Contains(names, "tmp/new"), "%v", names)
		assert.Check(t, slices.Contains(names, "bin/busybox"))
		assert.Check(t, !slices.Contains(names, "etc/group"))

		// save then load: the image comes back and runs.
		saved := filepath.Join(dir, "saved.tar")
		c.OK(t, "save", "-o", saved, img)
		c.OK(t, "rmi", img)
		assert.Check(t, is.Contains(c.OK(t, "load", "-i", saved), "Loaded image: "+img))
		assert.Equal(t, c.OK(t, "run", "--rm", img), "x\n")

		// Prunes. A running container, an image it uses and a named
		// volume are kept; a stopped container, a dangling image and an
		// anonymous volume go.
		c.OK(t, "volume", "create", c.Name("named"))
		anon := c.Name("anon")
		c.OK(t, "create", "--name", anon, "-v", "/vol", "busybox")
		anonVol := c.Inspect(t, anon, "{{(index .Mounts 0).Name}}")
		labeled := strings.TrimSpace(c.OK(t, "create", "--label", "prune=yes", "busybox"))
		out := c.OK(t, "container", "prune", "-f", "--filter", "label=prune=yes", "--filter", "until=1h")
		assert.Check(t, !strings.Contains(out, labeled), "until=1h keeps a container created now: %s", out)
		out = c.OK(t, "container", "prune", "-f", "--filter", "label=prune=yes")
		assert.Check(t, is.Contains(out, labeled))
		assert.Equal(t, c.Inspect(t, w, "{{.State.Status}}"), "exited", "another label filter keeps the others")
		out = c.OK(t, "container", "prune", "-f")
		for _, gone := range []string{w, ro, anon} {
			c.Fails(t, 1, "No such", "inspect", "--type", "container", gone)
		}
		assert.Check(t, is.Contains(out, "Total reclaimed space:"))
		assert.Equal(t, c.Inspect(t, renamed, "{{.State.Running}}"), "true")
		out = c.OK(t, "volume", "prune", "-f")
		assert.Check(t, is.Contains(out, anonVol), out)
		if api := strings.TrimSpace(c.OK(t, "version", "--format", "{{.Server.APIVersion}}")); c.TestName() == "docker28" && api >= "1.42" {
			// API 1.42+: named volumes only with --all.
			c.OK(t, "volume", "inspect", c.Name("named"))
			assert.Check(t, is.Contains(c.OK(t, "volume", "prune", "-a", "-f"), c.Name("named")))
		}
		c.Fails(t, 1, "such volume", "volume", "inspect", c.Name("named"))

		c.OK(t, "tag", img, c.Name("dangling"))
		c.OK(t, "rmi", img) // a tag remains: not dangling yet
		c.OK(t, "commit", renamed)
		dangling := strings.TrimSpace(c.OK(t, "images", "-q", "--filter", "dangling=true"))
		assert.Check(t, dangling != "", "a commit without a name makes a dangling image")
		out = c.OK(t, "image", "prune", "-f")
		assert.Check(t, is.Contains(out, "deleted: sha256:"+dangling), out)
		assert.Check(t, is.Contains(c.OK(t, "images", "--format", "{{.Repository}}"), c.Name("dangling")))
		out = c.OK(t, "image", "prune", "-a", "-f")
		assert.Check(t, is.Contains(out, "untagged: "+c.Name("dangling")), out)
		assert.Check(t, is.Contains(c.OK(t, "images", "--format", "{{.Repository}}"), "busybox"), "an image in use stays")

		// system df agrees with the lists.
		df := c.OK(t, "system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}")
		assert.Check(t, is.Contains(df, "Images "+strconv.Itoa(len(lines(c.OK(t, "images", "-q"))))+" "), df)
		assert.Check(t, is.Contains(df, "Containers "+strconv.Itoa(len(lines(c.OK(t, "ps", "-aq"))))+" "+strconv.Itoa(len(lines(c.OK(t, "ps", "-q"))))), df)

		// What Berth is not: no swarm, no plugins.
		c.Fails(t, 1, `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`, "node", "ls")
		assert.Equal(t, c.OK(t, "plugin", "ls", "--format", "{{.Name}}"), "")

		c.OK(t, "rm", "-f", renamed, other)
	})
	if !tg.IsDocker() {
		res := tg.API(t, "POST", "/build", nil)
		assert.Equal(t, res.Status, 501)
		assert.Check(t, is.Contains(res.Message(), "building images is not supported by Berth"))
		res = tg.API(t, "GET", "/swarm", nil)
		assert.Equal(t, res.Status, 503)
	}
}

func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	assert.NilError(t, err)
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		assert.NilError(t, err)
		names = append(names, strings.TrimSuffix(h.Name, "/"))
	}
}

func lines(s string) []string {
	return strings.Fields(s)
}
