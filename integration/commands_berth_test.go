package integration

import (
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

// TestCommandsBerthCLI drives the everyday commands of the berth CLI:
// rename and events, diff, commit then run, export, history, save then
// load, stats, attach, the prunes and system df, version and completion.
func TestCommandsBerthCLI(t *testing.T) {
	d := harness.NewWithImage(t)
	dir := t.TempDir()
	since := strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)

	d.OK(t, "run", "-d", "--name", "ca", "busybox", "sleep", "300")
	d.OK(t, "rename", "ca", "cb")
	assert.Equal(t, d.Inspect(t, "cb", "{{.Name}}"), "/cb")
	d.Fails(t, 1, []string{"No such container: ca"}, "rename", "ca", "cc")
	d.OK(t, "pause", "cb")
	d.OK(t, "unpause", "cb")
	d.OK(t, "exec", "cb", "true")
	until := strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
	ev := d.OK(t, "events", "--since", since, "--until", until, "--filter", "type=container", "--format", "{{.Action}}")
	for _, want := range []string{"rename", "pause", "unpause", "exec_create: true ", "exec_start: true ", "exec_die"} {
		assert.Check(t, slices.Contains(strings.Split(ev, "\n"), want), "event %q in %q", want, ev)
	}
	line := d.OK(t, "events", "--since", since, "--until", until, "--filter", "event=rename")
	assert.Check(t, is.Regexp(`^\d{4}-\d\d-\d\dT[0-9:.]+Z container rename [0-9a-f]{64} \(image=busybox, name=cb, oldName=/ca\)$`, line))

	// stats and attach on a running container.
	assert.Equal(t, d.OK(t, "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "cb"), "cb 1")
	d.OK(t, "run", "-d", "-i", "--name", "reader", "busybox", "sh", "-c", "read x; echo got $x")
	res := d.BerthIn(t, "hello\n", "attach", "reader")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, res.Stdout, "got hello\n")
	d.Fails(t, 1, []string{"You cannot attach to a stopped container, start it first"}, "attach", "reader")

	// diff, commit, history, export.
	d.OK(t, "run", "--name", "wr", "busybox", "sh", "-c", "echo x > /tmp/new; rm /etc/group")
	assert.Equal(t, d.OK(t, "diff", "wr"), "C /etc\nD /etc/group\nC /tmp\nA /tmp/new")
	id := d.OK(t, "commit", "-c", "ENV FOO=bar", "-m", "msg", "-a", "me", "wr", "mine:v1")
	assert.Check(t, strings.HasPrefix(id, "sha256:"))
	assert.Equal(t, d.OK(t, "run", "--rm", "mine:v1", "sh", "-c", "cat /tmp/new; echo $FOO"), "x\nbar")
	hist := d.OK(t, "history", "--no-trunc", "--format", "{{.ID}}|{{.Comment}}", "mine:v1")
	busybox := d.OK(t, "images", "--no-trunc", "-q", "busybox")
	assert.Check(t, strings.HasPrefix(hist, id+"|msg\n"+busybox+"|"), hist)
	assert.Check(t, is.Contains(d.OK(t, "history", "mine:v1"), "IMAGE          CREATED"))
	assert.Equal(t, strings.Split(d.OK(t, "history", "-q", "mine:v1"), "\n")[0], strings.TrimPrefix(id, "sha256:")[:12])
	exported := filepath.Join(dir, "w.tar")
	d.OK(t, "export", "-o", exported, "wr")
	names := tarNames(t, exported)
	assert.Check(t, slices.Contains(names, "tmp/new") && !slices.Contains(names, "etc/group"), "%v", names)

	// save two images, remove one, load it back.
	saved := filepath.Join(dir, "saved.tar")
	d.OK(t, "save", "-o", saved, "mine:v1", "busybox")
	d.OK(t, "rmi", "mine:v1")
	out := d.OK(t, "load", "-i", saved)
	assert.Check(t, is.Contains(out, "Loaded image: mine:v1"))
	assert.Check(t, is.Contains(out, "Loaded image: busybox:latest"))
	assert.Equal(t, d.OK(t, "run", "--rm", "mine:v1", "cat", "/tmp/new"), "x")

	// Prunes and disk usage.
	d.OK(t, "volume", "create", "keep")
	d.OK(t, "create", "--name", "anon", "-v", "/v", "busybox")
	df := d.OK(t, "system", "df")
	assert.Check(t, is.Regexp(`(?m)^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\nImages +2 +1 .*\nContainers +4 +1 .*\nLocal Volumes +2 +1 .*\nBuild Cache +0 +0 +0B +0B$`, df))
	out = d.OK(t, "container", "prune", "-f")
	assert.Check(t, is.Contains(out, "Deleted Containers:\n"))
	assert.Equal(t, d.OK(t, "container", "ls", "-a", "--format", "{{.Names}}"), "cb")
	out = d.OK(t, "volume", "prune", "-f")
	assert.Check(t, is.Regexp(`^Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: `, out))
	assert.Equal(t, d.OK(t, "volume", "ls", "-q"), "keep")
	assert.Check(t, is.Contains(d.OK(t, "volume", "prune", "-a", "-f"), "keep"))
	out = d.OK(t, "image", "prune", "-a", "-f")
	assert.Check(t, is.Contains(out, "untagged: mine:v1"), out)
	assert.Check(t, is.Contains(d.OK(t, "images", "--format", "{{.Repository}}"), "busybox"))
	d.OK(t, "commit", "cb", "gone:v1")
	d.OK(t, "rm", "-f", "cb")
	out = d.OK(t, "system", "prune", "-a", "-f", "--volumes")
	assert.Check(t, is.Contains(out, "untagged: gone:v1"), out)
	assert.Check(t, is.Contains(out, "untagged: busybox:latest"), out)
	assert.Equal(t, d.OK(t, "image", "ls", "-q"), "")

	// version and completion.
	v := d.OK(t, "version", "--format", "{{.Client.Version}} {{.Client.GitCommit}} {{.Server.Version}}")
	f := strings.Fields(v)
	assert.Assert(t, len(f) == 3, v)
	if os.Getenv("BERTH_BIN") != "" { // built by hack/build, which sets both
		assert.Check(t, f[0] != "dev" && f[1] != "unknown", v)
		assert.Check(t, f[0] == f[2], "client and daemon of one build report one version: %s", v)
	}
	assert.Check(t, is.Contains(d.OK(t, "completion", "bash"), "bash completion V2 for berth"))
	d.Fails(t, 1, []string{"berth: unknown command: berth completion tcsh"}, "completion", "tcsh")
}
