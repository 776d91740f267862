package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// hostileCanary is a host directory a hostile container aims at: it holds
// one file of random content, and must never receive another.
type hostileCanary struct {
	dir, secret string
}

func newHostileCanary(t *testing.T) hostileCanary {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "canary")
	assert.NilError(t, os.Mkdir(dir, 0o755))
	buf := make([]byte, 16)
	_, err := rand.Read(buf)
	assert.NilError(t, err)
	secret := "host-secret-" + hex.EncodeToString(buf)
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "secret.txt"), []byte(secret), 0o644))
	return hostileCanary{dir: dir, secret: secret}
}

// check fails when the canary directory holds anything but its secret.
func (c hostileCanary) check(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(c.dir)
	assert.NilError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.DeepEqual(t, names, []string{"secret.txt"})
	assert.Equal(t, cpReadFile(t, filepath.Join(c.dir, "secret.txt")), c.secret)
}

// buildRenameSwap builds the static attacker binary of
// testdata/renameswap into a fresh directory, which it returns.
func buildRenameSwap(t *testing.T) string {
	t.Helper()
	goBin := harness.RequireTool(t, "go")
	dir := t.TempDir()
	cmd := exec.Command(goBin, "build", "-mod=vendor", "-o", filepath.Join(dir, "renameswap"), "./integration/testdata/renameswap")
	cmd.Dir = harness.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "build renameswap: %s", out)
	return dir
}

// tarOf is a tar stream of the given entries, in order (harness.Tar).
func tarOf(t *testing.T, entries ...harness.TarEntry) *bytes.Buffer {
	t.Helper()
	return bytes.NewBuffer(harness.Tar(t, entries))
}

func regEntry(name, body string) harness.TarEntry {
	return harness.TarEntry{Name: name, Body: body, Mode: 0o644}
}

// readOne copies p out of the container and returns the content of the
// archive's first entry.
func readOne(ctx context.Context, c *client.Client, id, p string) (string, error) {
	res, err := c.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: p})
	if err != nil {
		return "", err
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	if _, err := tr.Next(); err != nil {
		return "", err
	}
	data, err := io.ReadAll(tr)
	return string(data), err
}

// TestHostileCpRace: a container process exchanges a directory with a
// symlink to a host directory (renameat2 RENAME_EXCHANGE, in a loop) while
// files are copied into and out of that directory. Neither the copy in
// nor the copy out may ever reach the host (CVE-2018-15664).
func TestHostileCpRace(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	ctx := context.Background()
	swapDir := buildRenameSwap(t)
	canary := newHostileCanary(t)

	id := d.OK(t, "run", "-d", "--name", "racer", "--tmpfs", "/race", "-v", swapDir+":/swap:ro", "busybox", "sh", "-c",
		"mkdir /race/d && echo container > /race/d/secret.txt && ln -s "+canary.dir+" /race/l && exec /swap/renameswap /race/d /race/l")
	// The attacker says when it swaps.
	for i := 0; ; i++ {
		if strings.Contains(d.Berth(t, "logs", "racer").Stdout, "swapping") {
			break
		}
		assert.Assert(t, i < 500, "the attacker never started: %s", d.Berth(t, "logs", "racer").Combined())
	}

	c := d.Client(t)
	const maxAttempts = 300
	deadline := time.Now().Add(60 * time.Second)
	var attempts, putOK, getOK, getContainer, leaked, planted int
	for attempts < maxAttempts && time.Now().Before(deadline) && (leaked == 0 || planted == 0) {
		attempts++
		name := "planted.txt"
		_, err := c.CopyToContainer(ctx, id, client.CopyToContainerOptions{
			DestinationPath: "/race/d", Content: tarOf(t, regEntry(name, "planted")),
		})
		if err == nil {
			putOK++
		}
		data, err := readOne(ctx, c, id, "/race/d/secret.txt")
		if err == nil {
			getOK++
			if data == canary.secret {
				leaked++
			}
			if data == "container\n" {
				getContainer++
			}
		}
		if _, err := os.Lstat(filepath.Join(canary.dir, name)); err == nil {
			planted++
			assert.NilError(t, os.Remove(filepath.Join(canary.dir, name)))
		}
	}
	t.Logf("%d attempts (PUT ok %d, GET ok %d, GET of the container's file %d)", attempts, putOK, getOK, getContainer)
	assert.Check(t, leaked == 0, "host content returned %d times", leaked)
	assert.Check(t, planted == 0, "a file was written on the host %d times", planted)
	canary.check(t)
	// The attacker was still at work: the copies raced with it.
	st, err := c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	assert.NilError(t, err)
	assert.Check(t, st.Container.State.Running)
}

// escapeCase is one copy into or out of a hostile container, with its
// exact outcome: an error (status class and message) or what the
// container then holds.
type escapeCase struct {
	name string
	// out: copy this path out; in: extract content at this path.
	out, in string
	content *bytes.Buffer
	// wantErr is the start of the error message; wantStatus its class.
	wantErr    string
	wantStatus func(error) bool
	// wantFile (container path) must then hold wantBody, read back.
	wantFile, wantBody string
	// wantLink: the copied-out entry is a symlink to this target.
	wantLink string
}

// TestHostileCpStaticEscapes copies into and out of a running and a
// stopped container through symlinks to "/", "../..", and to a host
// directory, and with tar entries that lead out of the extraction
// directory: every operation either fails with its exact message or acts
// inside the container; the host directory never changes.
func TestHostileCpStaticEscapes(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	ctx := context.Background()
	canary := newHostileCanary(t)
	c := d.Client(t)

	id := d.OK(t, "run", "-d", "--name", "hostile", "busybox", "sh", "-c",
		"mkdir /esc /target && ln -s / /esc/root && ln -s ../../../../.. /esc/up && ln -s "+canary.dir+" /esc/abs && "+
			"ln -s "+canary.dir+"/secret.txt /esc/absfile && echo container-root > /marker && touch /ready && exec sleep 300")
	for i := 0; d.Berth(t, "cp", "hostile:/ready", "-").ExitCode != 0; i++ {
		assert.Assert(t, i < 100, "container never wrote /ready")
	}

	notFound := func(p string) string { return "Could not find the file " + p + " in container " + id }
	cases := func(phase string) []escapeCase {
		return []escapeCase{
			{name: "out through absolute symlink to host dir", out: "/esc/abs/secret.txt", wantErr: notFound("/esc/abs/secret.txt"), wantStatus: cerrdefs.IsNotFound},
			{name: "out absolute symlink itself", out: "/esc/absfile", wantLink: canary.dir + "/secret.txt"},
			{name: "out through symlink to /", out: "/esc/root/marker", wantBody: "container-root\n"},
			{name: "out through ../..", out: "/esc/up/marker", wantBody: "container-root\n"},
			{name: "out with .. in the path", out: "/../../../marker", wantBody: "container-root\n"},
			{name: "in through symlink to host dir", in: "/esc/abs", content: tarOf(t, regEntry("planted.txt", "x")),
				wantErr: notFound("/esc/abs"), wantStatus: cerrdefs.IsNotFound},
			{name: "in through ../..", in: "/esc/up", content: tarOf(t, regEntry("up-"+phase+".txt", phase)),
				wantFile: "/up-" + phase + ".txt", wantBody: phase},
			{name: "in through symlink to /", in: "/esc/root/target", content: tarOf(t, regEntry("root-"+phase+".txt", phase)),
				wantFile: "/target/root-" + phase + ".txt", wantBody: phase},
			{name: "entry with ..", in: "/target", content: tarOf(t, regEntry("../../../dotdot-"+phase+".txt", "x")),
				wantErr: "invalid archive: an entry leads out of the extraction directory", wantStatus: cerrdefs.IsInvalidArgument},
			{name: "absolute entry", in: "/target", content: tarOf(t, regEntry("/abs-"+phase+".txt", phase)),
				wantFile: "/target/abs-" + phase + ".txt", wantBody: phase},
			{name: "symlink to / then a file through it", in: "/target", content: tarOf(t,
				harness.TarEntry{Name: "l-" + phase, Type: tar.TypeSymlink, Link: "/", Mode: 0o644},
				regEntry("l-"+phase+"/etc/through-"+phase, phase)),
				wantFile: "/target/etc/through-" + phase, wantBody: phase},
			{name: "symlink to host dir then a file through it", in: "/target", content: tarOf(t,
				harness.TarEntry{Name: "h-" + phase, Type: tar.TypeSymlink, Link: canary.dir, Mode: 0o644},
				regEntry("h-"+phase+"/planted.txt", phase)),
				wantFile: "/target" + canary.dir + "/planted.txt", wantBody: phase},
			{name: "symlink to ../.. then a file through it", in: "/target", content: tarOf(t,
				harness.TarEntry{Name: "u-" + phase, Type: tar.TypeSymlink, Link: "../../../../..", Mode: 0o644},
				regEntry("u-"+phase+"/planted.txt", phase)),
				wantErr: "invalid archive: an entry leads out of the extraction directory", wantStatus: cerrdefs.IsInvalidArgument},
			{name: "hardlink to a host path", in: "/target", content: tarOf(t,
				harness.TarEntry{Name: "hl-" + phase, Type: tar.TypeLink, Link: canary.dir + "/secret.txt", Mode: 0o644}),
				wantErr: "invalid archive: the target", wantStatus: cerrdefs.IsInvalidArgument},
			{name: "hardlink with ..", in: "/target", content: tarOf(t,
				harness.TarEntry{Name: "hd-" + phase, Type: tar.TypeLink, Link: "../../etc/passwd", Mode: 0o644}),
				wantErr: "invalid archive: an entry leads out of the extraction directory", wantStatus: cerrdefs.IsInvalidArgument},
		}
	}
	run := func(t *testing.T, phase string) {
		for _, tc := range cases(phase) {
			var err error
			var hdr *tar.Header
			var body string
			if tc.out != "" {
				res, e := c.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: tc.out})
				err = e
				if err == nil {
					tr := tar.NewReader(res.Content)
					hdr, err = tr.Next()
					assert.NilError(t, err, tc.name)
					data, _ := io.ReadAll(tr)
					body = string(data)
					res.Content.Close()
				}
			} else {
				_, err = c.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: tc.in, Content: tc.content})
			}
			if tc.wantErr != "" {
				assert.Check(t, err != nil && tc.wantStatus(err), "%s: %v", tc.name, err)
				if err != nil {
					assert.Check(t, is.Contains(err.Error(), tc.wantErr), tc.name)
				}
				continue
			}
			if !assert.Check(t, err, tc.name) {
				continue
			}
			switch {
			case tc.wantLink != "":
				assert.Check(t, is.Equal(hdr.Typeflag, byte(tar.TypeSymlink)), tc.name)
				assert.Check(t, is.Equal(hdr.Linkname, tc.wantLink), tc.name)
			case tc.out != "":
				assert.Check(t, is.Equal(body, tc.wantBody), tc.name)
			default:
				got, err := readOne(ctx, c, id, tc.wantFile)
				assert.Check(t, err, tc.name)
				assert.Check(t, is.Equal(got, tc.wantBody), tc.name)
			}
		}
		canary.check(t)
		for _, p := range []string{"/up-" + phase + ".txt", "/dotdot-" + phase + ".txt", "/etc/through-" + phase} {
			_, err := os.Lstat(p)
			assert.Check(t, os.IsNotExist(err), "%s exists on the host", p)
		}
	}
	t.Run("running", func(t *testing.T) { run(t, "running") })
	res := d.Berth(t, "stop", "-t", "0", "hostile")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	t.Run("stopped", func(t *testing.T) { run(t, "stopped") })
	assert.Check(t, is.Len(d.Mounts(), 0))
}

// TestCpBadArchives: a body that is no tar archive, and an archive whose
// hardlink names a missing file, are the client's fault (400), with a
// message that says so, and leave nothing behind.
func TestCpBadArchives(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	ctx := context.Background()
	c := d.Client(t)
	id := d.OK(t, "run", "-d", "--name", "bad", "busybox", "sh", "-c", "mkdir /target && touch /ready && exec sleep 300")
	for i := 0; d.Berth(t, "cp", "bad:/ready", "-").ExitCode != 0; i++ {
		assert.Assert(t, i < 100, "container never wrote /ready")
	}
	for _, tc := range []struct {
		name, body, wantErr string
	}{
		{"short text", "this is not a tar archive\n", "the content is not a valid tar archive"},
		{"a block of junk", strings.Repeat("junk", 300), "the content is not a valid tar archive"},
		{"missing hardlink target", tarOf(t, regEntry("a.txt", "a"),
			harness.TarEntry{Name: "b.txt", Type: tar.TypeLink, Link: "missing.txt", Mode: 0o644}).String(),
			`invalid archive: the target "missing.txt" of hardlink "b.txt" is missing`},
	} {
		_, err := c.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/target", Content: strings.NewReader(tc.body)})
		assert.Check(t, cerrdefs.IsInvalidArgument(err), "%s: %v", tc.name, err)
		if err != nil {
			assert.Check(t, is.Contains(err.Error(), tc.wantErr), tc.name)
		}
	}
	// The hardlink's archive stopped at the link: a.txt is there, b.txt not.
	res := d.Berth(t, "exec", "bad", "ls", "/target")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, res.Stdout, "a.txt\n")
}

// TestCpLongNamesPAX: names longer than ustar's 100 (and 155+100) bytes
// go out of a container as PAX records, and come back in intact; also in
// an archive of the whole root, whose names get a leading "/".
func TestCpLongNamesPAX(t *testing.T) {
	d := harness.New(t)
	d.LoadImage(t)
	ctx := context.Background()
	c := d.Client(t)
	id := d.OK(t, "run", "-d", "--name", "pax", "--tmpfs", "/tmp", "busybox", "sh", "-c", "touch /tmp/ready && exec sleep 300")
	for i := 0; d.Berth(t, "cp", "pax:/tmp/ready", "-").ExitCode != 0; i++ {
		assert.Assert(t, i < 100, "container never wrote /tmp/ready")
	}
	long := strings.Repeat("n", 160) + ".txt"
	deep := strings.Repeat("d", 120) + "/" + strings.Repeat("e", 120) + "/" + long
	_, err := c.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/tmp",
		Content: tarOf(t, regEntry(long, "long"), regEntry(deep, "deep"))})
	assert.NilError(t, err)
	// 100 bytes fit ustar's name field; the whole root's "/"-prefixed
	// name does not.
	top := strings.Repeat("t", 100)
	_, err = c.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: tarOf(t, regEntry(top, "top"))})
	assert.NilError(t, err)

	for _, p := range []string{"/tmp", "/"} {
		res, err := c.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: p})
		assert.NilError(t, err)
		raw, err := io.ReadAll(res.Content)
		res.Content.Close()
		assert.NilError(t, err)
		// No GNU long-name records: PAX only.
		assert.Check(t, !bytes.Contains(raw, []byte("././@LongLink")), p)
		prefix := "tmp/"
		if p == "/" {
			prefix = "/tmp/"
		}
		got := map[string]string{}
		tr := tar.NewReader(bytes.NewReader(raw))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			assert.NilError(t, err)
			if h.Typeflag == tar.TypeReg && len(h.Name) > 100 {
				assert.Check(t, h.Format&tar.FormatPAX != 0, "%s: %s is %v", p, h.Name, h.Format)
				data, _ := io.ReadAll(tr)
				got[h.Name] = string(data)
			}
		}
		want := map[string]string{prefix + long: "long", prefix + deep: "deep"}
		if p == "/" {
			want["/"+top] = "top"
		}
		assert.Check(t, is.DeepEqual(got, want), p)
	}
}
