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

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

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

// tarOf is a tar stream of the given entries, in order.
func tarOf(t *testing.T, hdrs ...tarEntry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range hdrs {
		h := e.h
		h.Size = int64(len(e.body))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		assert.NilError(t, tw.WriteHeader(&h))
		_, err := tw.Write([]byte(e.body))
		assert.NilError(t, err)
	}
	assert.NilError(t, tw.Close())
	return &buf
}

type tarEntry struct {
	h    tar.Header
	body string
}

func regEntry(name, body string) tarEntry {
	return tarEntry{h: tar.Header{Name: name, Typeflag: tar.TypeReg}, body: body}
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

	id := cpRunDetached(t, d, "--name", "racer", "--tmpfs", "/race", "-v", swapDir+":/swap:ro", "busybox", "sh", "-c",
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
