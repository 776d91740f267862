package integration

import (
	"archive/tar"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/api/types/berth"
	"github.com/berth-project/berth/integration/internal/harness"
)

// prodApp is the test application: what a typical service writes at
// start (a pid file under /run/app, a 3 MiB cache, a scratch file in /tmp,
// a record in its VOLUME /data) after reading its image content under
// /run. With "serve" it stays up afterwards, with a pid file in /etc that
// it removes when it stops (the audit must see it all the same).
const prodApp = `#!/bin/sh
set -e
cat /run/seed.conf
mkdir -p /run/app
echo $$ > /run/app/app.pid
dd if=/dev/zero of=/var/cache/app/cache.bin bs=1024 count=3072 2>/dev/null
echo scratch > /tmp/scratch.txt
echo record >> /data/db.txt
echo app ok
if [ "$1" = serve ]; then
  echo $$ > /etc/serving.pid
  trap 'rm -f /etc/serving.pid; exit 0' TERM
  while :; do sleep 1; done
fi
`

// prodLabels are the production-mode labels of prodapp:labeled.
var prodLabels = []string{
	`LABEL io.berth.read-only=true io.berth.tmpfs="/run /tmp /var/cache/app:size=64m"`,
	`LABEL RUN="docker run --name NAME IMAGE"`,
}

// importProdApp imports the application as ref with the image changes
// (CMD and VOLUME are always set).
func importProdApp(t *testing.T, d *harness.Daemon, ref string, changes ...string) {
	t.Helper()
	rootfs := harness.Tar(t, append(harness.BusyboxRootfs(t),
		harness.TarEntry{Name: "app.sh", Mode: 0o755, Body: prodApp},
		harness.TarEntry{Name: "run", Type: tar.TypeDir, Mode: 0o755},
		harness.TarEntry{Name: "run/seed.conf", Mode: 0o644, Body: "seed from the image\n"},
		harness.TarEntry{Name: "var", Type: tar.TypeDir, Mode: 0o755},
		harness.TarEntry{Name: "var/cache", Type: tar.TypeDir, Mode: 0o755},
		harness.TarEntry{Name: "var/cache/app", Type: tar.TypeDir, Mode: 0o755},
		harness.TarEntry{Name: "var/tmp", Type: tar.TypeDir, Mode: 0o1777},
		harness.TarEntry{Name: "var/lib", Type: tar.TypeDir, Mode: 0o755},
		harness.TarEntry{Name: "data", Type: tar.TypeDir, Mode: 0o755},
	))
	args := []string{"import", "--change", `CMD ["/app.sh"]`, "--change", "VOLUME /data"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	res := d.BerthIn(t, string(rootfs), append(args, "-", ref)...)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
}

// production returns the Berth.Production object of a container's inspect.
func production(t *testing.T, d *harness.Daemon, name string) *berth.Production {
	t.Helper()
	var resp berth.InspectResponse
	d.API(t, "GET", "/containers/"+name+"/json", nil).Decode(t, http.StatusOK, &resp)
	if resp.Berth == nil {
		return nil
	}
	return resp.Berth.Production
}

func tmpfsDestinations(p *berth.Production) []string {
	var out []string
	for _, m := range p.Tmpfs {
		out = append(out, m.Destination)
	}
	return out
}

// TestProductionLabels: an image's io.berth.read-only and io.berth.tmpfs
// labels make the application run read-only with its tmpfs; a container
// label overrides them; a request's own mount wins over a label tmpfs;
// inspect shows what was applied and from where; bad values are a 400
// naming the label and leave nothing behind.
func TestProductionLabels(t *testing.T) {
	d := harness.NewWithImage(t)
	importProdApp(t, d, "prodapp:plain")
	importProdApp(t, d, "prodapp:labeled", prodLabels...)

	res := d.Berth(t, "run", "--rm", "--read-only", "prodapp:plain")
	assert.Assert(t, res.ExitCode != 0 && strings.Contains(res.Combined(), "Read-only file system"), "without the labels the app needs its tmpfs: %s", res.Combined())

	out := d.OK(t, "run", "--name", "lab", "prodapp:labeled")
	assert.Check(t, is.Contains(out, "seed from the image"), "copy-up of /run")
	assert.Check(t, is.Contains(out, "app ok"))
	assert.Equal(t, d.Inspect(t, "lab", "{{.HostConfig.ReadonlyRootfs}}"), "true")
	p := production(t, d, "lab")
	assert.Assert(t, p != nil)
	assert.Check(t, p.ReadOnly)
	assert.Check(t, is.Equal(p.ReadOnlyFrom, "image label io.berth.read-only"))
	assert.Check(t, is.DeepEqual(tmpfsDestinations(p), []string{"/run", "/tmp", "/var/cache/app"}))
	for _, m := range p.Tmpfs {
		assert.Check(t, is.Equal(m.From, "image label io.berth.tmpfs"))
		if m.Destination == "/var/cache/app" {
			assert.Check(t, is.Contains(m.Options, "size=64m"))
		}
	}
	// berth inspect shows it too.
	assert.Equal(t, d.Inspect(t, "lab", "{{.Berth.Production.ReadOnlyFrom}}"), "image label io.berth.read-only")
	assert.Check(t, is.Contains(d.OK(t, "inspect", "lab"), `"Production": {`))

	// A container label overrides the image's.
	d.OK(t, "run", "--name", "rw", "--label", "io.berth.read-only=false", "prodapp:labeled")
	assert.Equal(t, d.Inspect(t, "rw", "{{.HostConfig.ReadonlyRootfs}}"), "false")
	p = production(t, d, "rw")
	assert.Check(t, !p.ReadOnly)
	assert.Check(t, is.Equal(p.ReadOnlyFrom, "container label io.berth.read-only"))
	d.OK(t, "run", "--rm", "--read-only", "--label", "io.berth.tmpfs=/run /tmp /var/cache/app:size=8m", "prodapp:plain")

	// The request's own mount of /tmp wins over the label's tmpfs.
	out = d.OK(t, "run", "--name", "own", "--tmpfs", "/tmp:size=1m", "prodapp:labeled", "sh", "-c", "/app.sh && grep ' /tmp ' /proc/mounts")
	assert.Check(t, is.Contains(out, "size=1024k"))
	assert.Check(t, is.DeepEqual(tmpfsDestinations(production(t, d, "own")), []string{"/run", "/var/cache/app"}))

	// Bad values: 400 naming the label; nothing created.
	before := d.Snapshot(t)
	for _, tc := range []struct{ labels map[string]string }{
		{map[string]string{"io.berth.read-only": "maybe"}},
		{map[string]string{"io.berth.tmpfs": "/x:size=lots"}},
		{map[string]string{"io.berth.tmpfs": "relative"}},
		{map[string]string{"io.berth.read-only-tmpfs": "sometimes"}},
	} {
		var key string
		for k := range tc.labels {
			key = k
		}
		r := d.API(t, "POST", "/containers/create?name=bad", map[string]any{"Image": "prodapp:labeled", "Labels": tc.labels})
		assert.Check(t, is.Equal(r.Status, http.StatusBadRequest), "%v: %s", tc.labels, r.Body)
		assert.Check(t, is.Contains(r.Message(), "container label "+key), "%v", tc.labels)
	}
	d.AssertUnchanged(t, before, "refused production labels")
}

// TestProductionRunlabel: berth runlabel runs (and displays) the image's
// RUN label with IMAGE and NAME substituted.
func TestProductionRunlabel(t *testing.T) {
	d := harness.NewWithImage(t)
	importProdApp(t, d, "prodapp:labeled", prodLabels...)
	assert.Equal(t, d.OK(t, "runlabel", "--display", "RUN", "prodapp:labeled"), "berth run --name prodapp prodapp:labeled")
	out := d.OK(t, "runlabel", "--name", "fromlabel", "RUN", "prodapp:labeled")
	assert.Check(t, is.Contains(out, "app ok"))
	assert.Equal(t, d.Inspect(t, "fromlabel", "{{.HostConfig.ReadonlyRootfs}}"), "true")
	d.Fails(t, 1, []string{"has no label NOPE"}, "runlabel", "NOPE", "prodapp:labeled")
}

// TestProductionDaemonDefaults: berthd --read-only-default and
// --read-only-tmpfs, through every docker CLI: containers are read-only
// unless they opt out with the label, get /run, /tmp and /var/tmp with
// copy-up unless they mount something there, and info reports both.
func TestProductionDaemonDefaults(t *testing.T) {
	tg := harness.NewTarget(t, harness.WithArgs("--read-only-default", "--read-only-tmpfs"))
	importProdApp(t, tg.Daemon, "prodapp:plain")
	assert.Check(t, is.Contains(tg.Daemon.OK(t, "info"), "io.berth.read-only-tmpfs=true"))
	harness.ForEachCLI(t, tg, func(t *testing.T, c harness.CLI) {
		var labels []string
		assert.NilError(t, json.Unmarshal([]byte(c.OK(t, "info", "--format", "{{json .Labels}}")), &labels))
		assert.Check(t, is.DeepEqual(labels, []string{"io.berth.read-only-default=true", "io.berth.read-only-tmpfs=true"}))

		res := c.Run(t, "run", "--rm", "busybox", "touch", "/x")
		assert.Check(t, res.ExitCode != 0 && strings.Contains(res.Combined(), "Read-only file system"), "read-only by default: %s", res.Combined())
		assert.Check(t, is.Equal(strings.TrimSpace(c.OK(t, "run", "--rm", "--label", "io.berth.read-only=false", "busybox", "sh", "-c", "touch /x && echo writable")), "writable"))

		// The app runs with only its cache added: /run (copied up), /tmp
		// and /var/tmp come from the daemon.
		out := c.OK(t, "run", "--rm", "--tmpfs", "/var/cache/app", "prodapp:plain", "sh", "-c", "/app.sh && touch /var/tmp/v && grep -c ' /var/tmp tmpfs ' /proc/mounts")
		assert.Check(t, is.Contains(out, "seed from the image"))
		assert.Check(t, is.Contains(out, "app ok\n1\n"))

		// A container's own /tmp wins.
		out = c.OK(t, "run", "--rm", "--tmpfs", "/tmp:size=1m", "busybox", "grep", " /tmp ", "/proc/mounts")
		assert.Check(t, is.Contains(out, "size=1024k"))
	})
}

// TestProductionAutoTmpfsPerContainer: berth run --read-only-tmpfs (the
// label io.berth.read-only-tmpfs=true) on a daemon without defaults.
func TestProductionAutoTmpfsPerContainer(t *testing.T) {
	d := harness.NewWithImage(t)
	importProdApp(t, d, "prodapp:plain")
	out := d.OK(t, "run", "--name", "auto", "--read-only", "--read-only-tmpfs", "--tmpfs", "/var/cache/app", "prodapp:plain")
	assert.Check(t, is.Contains(out, "seed from the image"), "copy-up of /run")
	assert.Check(t, is.Contains(out, "app ok"))
	p := production(t, d, "auto")
	assert.Check(t, is.DeepEqual(tmpfsDestinations(p), []string{"/run", "/tmp", "/var/tmp"}))
	assert.Check(t, is.Equal(p.Tmpfs[0].From, "container label io.berth.read-only-tmpfs"))
	assert.Check(t, is.Contains(p.Tmpfs[0].Options, "tmpcopyup"))
	assert.Check(t, is.Equal(p.ReadOnlyFrom, "--read-only"), "shown when the production mode added something")

	// Without a read-only root there is nothing to add.
	d.OK(t, "create", "--name", "writable", "--read-only-tmpfs", "prodapp:plain")
	assert.Check(t, production(t, d, "writable") == nil)
}

// TestProductionAudit: berth audit finds the application's writes, and
// each of its outputs (flags, labels, compose) runs it read-only; the
// audit leaves nothing behind; a write no flag can allow fails the
// verification.
func TestProductionAudit(t *testing.T) {
	d := harness.NewWithImage(t)
	importProdApp(t, d, "prodapp:plain")
	before := d.Snapshot(t)

	res := d.Berth(t, "audit", "prodapp:plain")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	flags := strings.TrimSpace(res.Stdout)
	assert.Equal(t, flags, "--read-only --tmpfs /run:size=1m --tmpfs /tmp:size=1m --tmpfs /var/cache/app:size=8m -v prodapp-data:/data")
	assert.Check(t, is.Contains(res.Stderr, "verify: the application ran read-only with these flags"))
	labels := d.OK(t, "audit", "--format", "labels", "--verify=false", "prodapp:plain")
	composeYAML := d.OK(t, "audit", "--format", "compose", "--verify=false", "prodapp:plain")
	var report struct {
		Groups []struct{ Path, Class string }
		Flags  []string
	}
	assert.NilError(t, json.Unmarshal([]byte(d.OK(t, "audit", "--format", "json", "--verify=false", "prodapp:plain")), &report))
	assert.Check(t, is.Equal(strings.Join(report.Flags, " "), flags))
	assert.Check(t, is.Len(report.Groups, 4))
	d.AssertUnchanged(t, before, "audits")

	// The flags.
	out := d.OK(t, append(append([]string{"run", "--name", "withflags"}, strings.Fields(flags)...), "prodapp:plain")...)
	assert.Check(t, is.Contains(out, "app ok"))
	assert.Equal(t, d.Inspect(t, "withflags", "{{.HostConfig.ReadonlyRootfs}}"), "true")

	// The labels, in an image.
	assert.Equal(t, labels, `LABEL io.berth.read-only="true" io.berth.tmpfs="/run:size=1m /tmp:size=1m /var/cache/app:size=8m"`)
	importProdApp(t, d, "prodapp:audited", labels)
	out = d.OK(t, "run", "--name", "withlabels", "prodapp:audited")
	assert.Check(t, is.Contains(out, "app ok"))
	assert.Equal(t, d.Inspect(t, "withlabels", "{{.HostConfig.ReadonlyRootfs}}"), "true")

	// The compose file, with docker-compose.
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(composeYAML+"\n"), 0o644))
	t.Cleanup(func() { compose(t, d, dir, "down", "-v") })
	res = compose(t, d, dir, "up", "--exit-code-from", "prodapp")
	assert.Equal(t, res.ExitCode, 0, "%s\n%s", composeYAML, res.Combined())
	assert.Check(t, is.Contains(res.Combined(), "app ok"))
	assert.Equal(t, d.Inspect(t, "bt_prodapp_1", "{{.HostConfig.ReadonlyRootfs}}"), "true")

	// A service, stopped after --duration, exercised by --probe.
	res = d.Berth(t, "audit", "--duration", "2s", "--probe", "echo probed > /var/lib/probe.txt", "prodapp:plain", "/app.sh", "serve")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	// /etc: the pid file the service removes when it stops.
	assert.Check(t, is.Equal(strings.TrimSpace(res.Stdout), "--read-only --tmpfs /etc:size=1m --tmpfs /run:size=1m --tmpfs /tmp:size=1m --tmpfs /var/cache/app:size=8m --tmpfs /var/lib:size=1m -v prodapp-data:/data"))

	// A write to / itself: no flag allows it, the verification says so.
	before = d.Snapshot(t)
	res = d.Berth(t, "audit", "prodapp:plain", "sh", "-c", "/app.sh && touch /app.lock")
	assert.Equal(t, res.ExitCode, 1, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "the application writes directly to /"))
	assert.Check(t, is.Contains(res.Stderr, "verify: FAILED: writes still refused: touch: /app.lock: Read-only file system"))
	d.AssertUnchanged(t, before, "failed audit")
}

// TestAnonymousVolumeYieldsToMount: a bind or volume replaces an anonymous
// volume the request names at the same path (TMPFS-CONTRACT "Conflicts";
// Docker skips it): docker-compose 1.29 sends every volume of a service in
// Config.Volumes too, so the audit's compose output depends on it.
func TestAnonymousVolumeYieldsToMount(t *testing.T) {
	d := harness.NewWithImage(t)
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("from the bind\n"), 0o644))
	assert.Equal(t, d.OK(t, "run", "--rm", "--network", "none", "-v", "/p", "-v", dir+":/p", "busybox", "cat", "/p/f"), "from the bind")
	d.OK(t, "run", "--rm", "--network", "none", "-v", "/p", "--mount", "type=volume,src=named,dst=/p", "busybox", "sh", "-c", "echo x > /p/g")
	assert.Equal(t, d.OK(t, "run", "--rm", "--network", "none", "-v", "named:/q", "busybox", "cat", "/q/g"), "x")
}
