package integration

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestRegistryPull pulls from a real registry: by tag and by digest,
// gzip (Docker schema 2) and zstd (OCI) layers, a multi-platform index
// with the host's platform or the one asked for, RepoDigests, run after
// pull and run of a missing image (which pulls it), and Docker's CLIs.
func TestRegistryPull(t *testing.T) {
	r := startRegistry(t, "", "")
	r.Push(t, "docker-archive:"+harness.TestImage(t), "test/busybox:v1")
	layout, otherArch := multiPlatformLayout(t, r, runtime.GOARCH)
	r.Push(t, "oci:"+layout+":single", "test/zstd:v1", "--preserve-digests")
	r.Push(t, "oci:"+layout+":v1", "test/multi:v1", "--all", "--preserve-digests")
	d := harness.New(t)
	cfgDir := t.TempDir()
	berth := func(args ...string) harness.Result { return berthWith(t, d, cfgDir, "", args...) }

	t.Run("by tag", func(t *testing.T) {
		ref := r.Ref("test/busybox:v1")
		res := berth("pull", ref)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Check(t, is.Contains(res.Stdout, "Pull complete"))
		assert.Check(t, is.Contains(res.Stdout, "Status: Downloaded newer image for "+ref))
		dgst := r.Digest(t, "test/busybox:v1")
		assert.Equal(t, d.OK(t, "inspect", "--format", "{{json .RepoDigests}}", ref), `["`+r.Ref("test/busybox")+"@"+dgst+`"]`)
		assert.Equal(t, d.OK(t, "run", "--rm", ref, "echo", "pulled"), "pulled")

		res = berth("pull", ref)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Check(t, is.Contains(res.Stdout, "Status: Image is up to date for "+ref))
	})

	t.Run("by digest", func(t *testing.T) {
		dgst := r.Digest(t, "test/busybox:v1")
		byDigest := r.Ref("test/busybox") + "@" + dgst
		d.OK(t, "rmi", r.Ref("test/busybox:v1"))
		res := berth("pull", byDigest)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, d.OK(t, "inspect", "--format", "{{json .RepoTags}} {{json .RepoDigests}}", byDigest), `[] ["`+byDigest+`"]`)
		assert.Equal(t, d.OK(t, "run", "--rm", byDigest, "echo", "by digest"), "by digest")
	})

	t.Run("zstd OCI", func(t *testing.T) {
		m := r.Manifest(t, "test/zstd:v1")
		assert.Equal(t, m.Layers[0].MediaType, "application/vnd.oci.image.layer.v1.tar+zstd")
		ref := r.Ref("test/zstd:v1")
		res := berth("pull", ref)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, d.OK(t, "run", "--rm", ref, "cat", "/etc/motd"), strings.TrimSpace(d.OK(t, "run", "--rm", r.Ref("test/busybox")+"@"+r.Digest(t, "test/busybox:v1"), "cat", "/etc/motd")))
	})

	t.Run("multi-platform", func(t *testing.T) {
		ref := r.Ref("test/multi:v1")
		res := berth("pull", ref)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		// The host's manifest is the image test/zstd pulled: it has both.
		assert.Equal(t, d.OK(t, "inspect", "--format", "{{.Architecture}} {{json .RepoDigests}}", ref),
			runtime.GOARCH+` ["`+r.Ref("test/multi")+"@"+r.Digest(t, "test/multi:v1")+`","`+r.Ref("test/zstd")+"@"+r.Digest(t, "test/zstd:v1")+`"]`)

		res = berth("pull", "--platform", "linux/"+otherArch, ref)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Equal(t, d.OK(t, "inspect", "--format", "{{.Architecture}}", ref), otherArch)

		before := d.OK(t, "images", "-q", "--no-trunc")
		res = berth("pull", "--platform", "linux/s390x", ref)
		assert.Assert(t, res.ExitCode != 0, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "no matching manifest for linux/s390x in the manifest list entries"))
		assert.Equal(t, d.OK(t, "images", "-q", "--no-trunc"), before)
	})

	t.Run("unknown", func(t *testing.T) {
		res := berth("pull", r.Ref("test/nothing:v1"))
		assert.Assert(t, res.ExitCode != 0, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "not found"))
	})

	t.Run("run pulls a missing image", func(t *testing.T) {
		ref := r.Ref("test/busybox:v1")
		_ = d.Berth(t, "rmi", "-f", ref)
		res := berth("run", "--rm", "--pull", "never", ref, "true")
		assert.Assert(t, res.ExitCode != 0, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "No such image: "+ref))

		res = berth("run", "--rm", ref, "echo", "auto")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "Unable to find image '"+ref+"' locally"))
		assert.Equal(t, strings.TrimSpace(res.Stdout), "auto")

		res = berth("create", "--pull", "always", ref)
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Check(t, is.Contains(res.Stderr, "Status: Image is up to date for "+ref))
	})

	for _, docker := range []string{harness.DockerCLI, harness.DockerCLI2010} {
		t.Run(dockerName(docker), func(t *testing.T) {
			harness.RequireTool(t, docker)
			ref := r.Ref("test/busybox:v1")
			_ = d.Berth(t, "rmi", "-f", ref)
			res := d.Docker(t, docker, "pull", ref)
			assert.Equal(t, res.ExitCode, 0, res.Combined())
			assert.Check(t, is.Contains(res.Stdout, "Status: Downloaded newer image for "+ref))
			assert.Check(t, is.Contains(res.Stdout, "Digest: "+r.Digest(t, "test/busybox:v1")))

			_ = d.Berth(t, "rmi", "-f", ref)
			res = d.Docker(t, docker, "run", "--rm", ref, "echo", "docker pulled")
			assert.Equal(t, res.ExitCode, 0, res.Combined())
			assert.Check(t, is.Contains(res.Stderr, "Unable to find image"))
			assert.Check(t, is.Contains(res.Stdout, "docker pulled"))
		})
	}
}

// TestRegistryTamperedBlob corrupts a layer in the registry's storage: the
// pull fails naming the digest and leaves no image, layer or scratch file.
func TestRegistryTamperedBlob(t *testing.T) {
	r := startRegistry(t, "", "")
	r.Push(t, "docker-archive:"+harness.TestImage(t), "test/busybox:v1")
	m := r.Manifest(t, "test/busybox:v1")
	layer := m.Layers[0].Digest
	path := r.BlobPath(layer)
	data, err := os.ReadFile(path)
	assert.NilError(t, err)
	for i := len(data) / 2; i < len(data)/2+64; i++ {
		data[i] ^= 0xff
	}
	assert.NilError(t, os.WriteFile(path, data, 0o644))

	d := harness.New(t)
	res := berthWith(t, d, t.TempDir(), "", "pull", r.Ref("test/busybox:v1"))
	assert.Assert(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, layer))
	assert.Equal(t, d.OK(t, "images", "-q"), "")
	assert.Check(t, is.Len(imageLayerDirs(t, d), 0))
	tmp, err := os.ReadDir(filepath.Join(d.DataRoot, "image", "tmp"))
	assert.NilError(t, err)
	assert.Check(t, is.Len(tmp, 0))
}

// TestRegistryConcurrentPulls pulls two images sharing their base layer at
// the same time: both complete, the base layer is stored once and fetched
// from the registry once.
func TestRegistryConcurrentPulls(t *testing.T) {
	r := startRegistry(t, "", "")
	r.Push(t, "docker-archive:"+harness.TestImage(t), "test/base:v1")
	r.Push(t, "docker-archive:"+derivedArchive(t, "derived:v1"), "test/derived:v1")
	base := r.Manifest(t, "test/base:v1").Layers[0].Digest
	assert.Equal(t, r.Manifest(t, "test/derived:v1").Layers[0].Digest, base)

	d := harness.New(t)
	refs := []string{r.Ref("test/base:v1"), r.Ref("test/derived:v1")}
	outs := make([][]byte, len(refs))
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(filepath.Join(harness.Binaries(t), "berth"), "-H", d.Host(), "pull", ref)
			cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range refs {
		assert.NilError(t, errs[i], string(outs[i]))
	}
	assert.Check(t, is.Len(imageLayerDirs(t, d), 2))
	assert.Check(t, is.Equal(r.BlobGets(t, base), 1), "GETs of the shared layer %s", base)
	assert.Equal(t, d.OK(t, "run", "--rm", refs[1], "cat", "/derived.txt"), "derived")
}

// TestRegistryAuth uses a registry with htpasswd basic auth: an
// unauthorized pull says so; berth login (stored in DOCKER_CONFIG as
// docker does) makes pulls work; docker login goes through POST /auth.
func TestRegistryAuth(t *testing.T) {
	r := startRegistry(t, "alice", "s3cret")
	r.Push(t, "docker-archive:"+harness.TestImage(t), "private/busybox:v1")
	ref := r.Ref("private/busybox:v1")
	d := harness.New(t)
	cfgDir := t.TempDir()

	res := berthWith(t, d, cfgDir, "", "pull", ref)
	assert.Assert(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "unauthorized"))
	assert.Equal(t, d.OK(t, "images", "-q"), "")

	res = berthWith(t, d, cfgDir, "wrong\n", "login", "-u", "alice", "--password-stdin", r.Addr)
	assert.Assert(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "unauthorized"))
	_, err := os.Stat(filepath.Join(cfgDir, "config.json"))
	assert.Check(t, os.IsNotExist(err), "a failed login stored credentials")

	res = berthWith(t, d, cfgDir, "s3cret\n", "login", "-u", "alice", "--password-stdin", r.Addr)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "Login Succeeded"))
	var cf struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	raw, err := os.ReadFile(filepath.Join(cfgDir, "config.json"))
	assert.NilError(t, err)
	assert.NilError(t, json.Unmarshal(raw, &cf))
	assert.Equal(t, cf.Auths[r.Addr].Auth, base64.StdEncoding.EncodeToString([]byte("alice:s3cret")))

	res = berthWith(t, d, cfgDir, "", "pull", ref)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, d.OK(t, "run", "--rm", ref, "echo", "private"), "private")

	res = berthWith(t, d, cfgDir, "", "logout", r.Addr)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	raw, err = os.ReadFile(filepath.Join(cfgDir, "config.json"))
	assert.NilError(t, err)
	assert.Check(t, !strings.Contains(string(raw), r.Addr), string(raw))

	for _, docker := range []string{harness.DockerCLI, harness.DockerCLI2010} {
		t.Run(dockerName(docker), func(t *testing.T) {
			harness.RequireTool(t, docker)
			_ = d.Berth(t, "rmi", "-f", ref)
			env := []string{"DOCKER_HOST=" + d.Host(), "DOCKER_CONFIG=" + t.TempDir()}
			run := func(stdin string, args ...string) harness.Result {
				return harness.Run(t, harness.Command{Bin: docker, Args: args, Env: env, Stdin: stdin})
			}
			res := run("wrong\n", "login", "-u", "alice", "--password-stdin", r.Addr)
			assert.Assert(t, res.ExitCode != 0, res.Combined())
			res = run("s3cret\n", "login", "-u", "alice", "--password-stdin", r.Addr)
			assert.Equal(t, res.ExitCode, 0, res.Combined())
			assert.Check(t, is.Contains(res.Stdout, "Login Succeeded"))
			res = run("", "pull", ref)
			assert.Equal(t, res.ExitCode, 0, res.Combined())
			assert.Check(t, is.Contains(res.Stdout, "Status: Downloaded newer image for "+ref))
		})
	}
}

func dockerName(bin string) string {
	if bin == harness.DockerCLI2010 {
		return "docker2010"
	}
	return "docker28"
}

// TestRegistryNoOutboundTraffic: a pull of a Docker Hub name from a test
// daemon goes to the closed loopback proxy the harness gives it and fails
// at once with a clear error, leaving nothing; no test reaches beyond the
// machine even when it names an image the daemon lacks.
func TestRegistryNoOutboundTraffic(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.Snapshot(t)
	res := d.Berth(t, "pull", "example/not-here:1")
	assert.Check(t, res.ExitCode != 0, "pulled from outside: %s", res.Combined())
	assert.Check(t, is.Contains(res.Combined(), "127.0.0.1:9"), res.Combined())
	res = d.Berth(t, "run", "--rm", "example/not-here:1")
	assert.Check(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Combined(), "127.0.0.1:9"), res.Combined())
	d.AssertUnchanged(t, before, "after the refused pulls")
}
