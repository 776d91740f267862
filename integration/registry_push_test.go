package integration

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestRegistryPush pushes a loaded image with berth push and the docker
// CLIs: the registry serves it (skopeo reads it back, another daemon pulls
// and runs it), blobs the repository has are not sent again, the gzip
// layer is made once and cached, and RepoDigests records the push.
func TestRegistryPush(t *testing.T) {
	r := startRegistry(t, "", "")
	d := harness.NewWithImage(t)
	cfgDir := t.TempDir()
	ref := r.Ref("pushed/busybox:v1")
	d.OK(t, "tag", "busybox:latest", ref)

	res := berthWith(t, d, cfgDir, "", "push", ref)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "The push refers to repository ["+r.Ref("pushed/busybox")+"]"))
	dgst := r.Digest(t, "pushed/busybox:v1")
	assert.Check(t, is.Contains(res.Stdout, "v1: digest: "+dgst))
	assert.Equal(t, d.OK(t, "inspect", "--format", "{{json .RepoDigests}}", ref), `["`+r.Ref("pushed/busybox")+"@"+dgst+`"]`)
	m := r.Manifest(t, "pushed/busybox:v1")
	assert.Equal(t, m.MediaType, "application/vnd.docker.distribution.manifest.v2+json")
	layer := m.Layers[0].Digest

	// The cached blob is what the registry has.
	matches, err := filepath.Glob(filepath.Join(d.DataRoot, "image", "layers", "*", "blob.tar.gz"))
	assert.NilError(t, err)
	assert.Assert(t, is.Len(matches, 1))
	cached, err := os.ReadFile(matches[0])
	assert.NilError(t, err)
	stored, err := os.ReadFile(r.BlobPath(layer))
	assert.NilError(t, err)
	assert.Check(t, string(cached) == string(stored), "cached blob differs from the pushed one")
	info, err := os.Stat(matches[0])
	assert.NilError(t, err)

	// A second push to another repository sends the layer again once; a
	// push to the same repository sends nothing.
	puts := func() int {
		log, err := os.ReadFile(r.LogPath)
		assert.NilError(t, err)
		return strings.Count(string(log), `"PUT /v2/pushed/busybox/blobs/uploads/`) + strings.Count(string(log), `"PATCH /v2/pushed/busybox/blobs/uploads/`)
	}
	before := puts()
	assert.Assert(t, before > 0, "the first push uploaded no blob")
	res = berthWith(t, d, cfgDir, "", "push", ref)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, puts(), before, "blobs uploaded again to a repository that has them")
	info2, err := os.Stat(matches[0])
	assert.NilError(t, err)
	assert.Check(t, info.ModTime().Equal(info2.ModTime()), "the gzip blob was made again")

	// Another daemon pulls and runs what was pushed.
	d2 := harness.New(t)
	res = berthWith(t, d2, cfgDir, "", "pull", ref)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, d2.OK(t, "run", "--rm", ref, "cat", "/etc/motd"), d.OK(t, "run", "--rm", "busybox", "cat", "/etc/motd"))

	res = berthWith(t, d, cfgDir, "", "push", r.Ref("pushed/none:v1"))
	assert.Assert(t, res.ExitCode != 0)
	assert.Check(t, is.Contains(res.Stderr, "An image does not exist locally with the tag: "+r.Ref("pushed/none")))

	for _, docker := range []string{harness.DockerCLI, harness.DockerCLI2010} {
		t.Run(dockerName(docker), func(t *testing.T) {
			harness.RequireTool(t, docker)
			dref := r.Ref("docker/" + dockerName(docker) + ":v2")
			d.OK(t, "tag", "busybox:latest", dref)
			res := d.Docker(t, docker, "push", dref)
			assert.Equal(t, res.ExitCode, 0, res.Combined())
			assert.Check(t, is.Contains(res.Stdout, "v2: digest: "+r.Digest(t, "docker/"+dockerName(docker)+":v2")))
		})
	}
}

// TestRegistryComposePullsMissing runs docker-compose 1.29 with a service
// whose image is only in the registry: compose pulls it through berthd.
func TestRegistryComposePullsMissing(t *testing.T) {
	r := startRegistry(t, "", "")
	r.Push(t, "docker-archive:"+harness.TestImage(t), "compose/busybox:v1")
	d := harness.New(t)
	dir := t.TempDir()
	yml := "version: \"2.4\"\nservices:\n  app:\n    image: " + r.Ref("compose/busybox:v1") + "\n    read_only: true\n    command: [\"echo\", \"pulled by compose\"]\n"
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(yml), 0o644))
	t.Cleanup(func() { compose(t, d, dir, "down") })
	// `up`, not `run`: compose 1.29's run attaches after it has started
	// the container (dockerpty's lazy sockets), so a quick echo can be
	// done before the attach, with dockerd as with berthd. up follows the
	// logs, which replay from the start.
	res := compose(t, d, dir, "up", "--no-color", "--exit-code-from", "app")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "pulled by compose"))
	assert.Check(t, is.Contains(res.Combined(), "Pulling app"))
	assert.Equal(t, d.OK(t, "inspect", "--format", "{{json .RepoDigests}}", r.Ref("compose/busybox:v1")),
		`["`+r.Ref("compose/busybox")+"@"+r.Digest(t, "compose/busybox:v1")+`"]`)
}

// TestRegistryTLSLoopback pulls from and pushes to a registry serving
// HTTPS with a self-signed certificate on 127.0.0.1: loopback registries
// are insecure by default, as in Docker, so the certificate is not
// verified.
func TestRegistryTLSLoopback(t *testing.T) {
	r := startRegistryTLS(t, "", "", true)
	r.Push(t, "docker-archive:"+harness.TestImage(t), "tls/busybox:v1")
	d := harness.New(t)
	cfgDir := t.TempDir()
	ref := r.Ref("tls/busybox:v1")
	res := berthWith(t, d, cfgDir, "", "pull", ref)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Equal(t, d.OK(t, "run", "--rm", ref, "echo", "over tls"), "over tls")
	d.OK(t, "tag", ref, r.Ref("tls/again:v1"))
	res = berthWith(t, d, cfgDir, "", "push", r.Ref("tls/again:v1"))
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "v1: digest: "+r.Digest(t, "tls/again:v1")))
	log, err := os.ReadFile(r.LogPath)
	assert.NilError(t, err)
	assert.Check(t, !strings.Contains(string(log), "http: TLS handshake error"), "a client spoke plain HTTP or failed TLS:\n%s", log)
}

// TestRegistryPullProgressOnTerminal: on a terminal, berth pull (and
// push) redraws each layer's line in place with a progress bar, as the
// docker CLI does.
func TestRegistryPullProgressOnTerminal(t *testing.T) {
	r := startRegistry(t, "", "")
	// The target has the test image: its derivative has one new layer.
	r.Push(t, "docker-archive:"+derivedArchive(t, "derived:v1"), "tty/busybox:v1")
	tg := harness.NewTarget(t)
	ref := r.Ref("tty/busybox:v1")
	p := tg.CLIOnPTY(t, filepath.Join(harness.Binaries(t), "berth"), 40, 200, "-H", tg.Host(), "pull", ref)
	assert.Equal(t, p.Wait(t), 0, p.Output())
	out := p.Output()
	assert.Check(t, is.Contains(out, ": Downloading ["), "no progress bar in %q", out)
	assert.Check(t, is.Contains(out, "\x1b[2K"), "no line redrawn in %q", out)
	assert.Check(t, is.Contains(out, ": Already exists"))
	assert.Check(t, is.Contains(out, ": Pull complete"))
	assert.Check(t, is.Contains(out, "Status: Downloaded newer image for "+ref))

	// berth push draws upload progress bars too.
	r2 := startRegistry(t, "", "")
	pushed := r2.Ref("tty/pushed:v1")
	res := tg.Docker(t, "tag", ref, pushed)
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	p = tg.CLIOnPTY(t, filepath.Join(harness.Binaries(t), "berth"), 40, 200, "-H", tg.Host(), "push", pushed)
	assert.Equal(t, p.Wait(t), 0, p.Output())
	out = p.Output()
	assert.Check(t, is.Contains(out, ": Pushing ["), "no progress bar in %q", out)
	assert.Check(t, is.Contains(out, ": Pushed"))
	assert.Check(t, is.Contains(out, "v1: digest: "+r2.Digest(t, "tty/pushed:v1")))
}

// TestRegistryMirror pulls a Docker Hub name ("busybox") through a
// registry mirror on 127.0.0.1 (--registry-mirror): the image comes from
// the mirror and keeps its Docker Hub name and digest.
func TestRegistryMirror(t *testing.T) {
	r := startRegistry(t, "", "")
	r.Push(t, "docker-archive:"+harness.TestImage(t), "library/busybox:latest")
	d := harness.New(t, harness.WithArgs("--registry-mirror", "http://"+r.Addr))
	res := berthWith(t, d, t.TempDir(), "", "pull", "busybox")
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "Status: Downloaded newer image for busybox:latest"))
	assert.Check(t, is.Contains(res.Stdout, "docker.io/library/busybox:latest"))
	assert.Equal(t, d.OK(t, "inspect", "--format", "{{json .RepoTags}} {{json .RepoDigests}}", "busybox"),
		`["busybox:latest"] ["busybox@`+r.Digest(t, "library/busybox:latest")+`"]`)
	assert.Check(t, r.BlobGets(t, r.Manifest(t, "library/busybox:latest").Layers[0].Digest) == 1)

	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "daemon.json")
	assert.NilError(t, os.WriteFile(cfg, []byte("{}"), 0o600))
	res = harness.Run(t, harness.Command{Bin: filepath.Join(harness.Binaries(t), "berthd"), Args: []string{
		"--registry-mirror", "mirror.example", "--data-root", filepath.Join(tmp, "data"), "--exec-root", filepath.Join(tmp, "exec"),
		"-H", "unix://" + filepath.Join(tmp, "s.sock"), "--config-file", cfg}})
	assert.Check(t, res.ExitCode != 0)
	assert.Check(t, is.Contains(res.Combined(), `registry mirror "mirror.example" is not an http(s)://host[:port] URL`))
}

// TestRegistryPushMount: a push of a layer the repository already has
// says "Layer already exists"; a push to another repository of the same
// registry mounts the blob ("Mounted from REPO", a POST with mount= that
// the registry answers 201, no upload of the layer); a pulled image pushed
// to another repository mounts the pulled blobs without compressing
// anything. Where blobs are is kept across daemon restarts.
func TestRegistryPushMount(t *testing.T) {
	r := startRegistry(t, "", "")
	d := harness.NewWithImage(t)
	cfgDir := t.TempDir()
	push := func(ref string) string {
		t.Helper()
		res := berthWith(t, d, cfgDir, "", "push", ref)
		assert.Assert(t, res.ExitCode == 0, res.Combined())
		return res.Stdout
	}
	accessLog := func() string {
		log, err := os.ReadFile(r.LogPath)
		assert.NilError(t, err)
		return string(log)
	}
	diffID := d.OK(t, "inspect", "--format", "{{index .RootFS.Layers 0}}", "busybox")
	id := strings.TrimPrefix(diffID, "sha256:")[:12]

	refA := r.Ref("mount/a:v1")
	d.OK(t, "tag", "busybox", refA)
	out := push(refA)
	assert.Check(t, is.Contains(out, id+": Pushed"), out)
	layer := r.Manifest(t, "mount/a:v1").Layers[0].Digest

	out = push(refA)
	assert.Check(t, is.Contains(out, id+": Layer already exists"), out)

	d.Restart(t)
	refB := r.Ref("mount/b:v1")
	d.OK(t, "tag", "busybox", refB)
	out = push(refB)
	assert.Check(t, is.Contains(out, id+": Mounted from mount/a"), out)
	log := accessLog()
	hexd := strings.TrimPrefix(layer, "sha256:")
	mounted := false
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"POST /v2/mount/b/blobs/uploads/?`) && strings.Contains(line, "mount=sha256%3A"+hexd) && strings.Contains(line, `" 201 `) {
			mounted = true
		}
	}
	assert.Check(t, mounted, "no successful mount of %s in the registry log:\n%s", layer, log)
	assert.Check(t, is.Equal(r.Manifest(t, "mount/b:v1").Layers[0].Digest, layer))
	// The layer was not uploaded to b: the only upload there is the config.
	assert.Check(t, is.Equal(strings.Count(log, `"PATCH /v2/mount/b/blobs/uploads/`), 1), log)

	// The docker CLI shows the same words from the JSON stream.
	harness.RequireTool(t, harness.DockerCLI)
	refC := r.Ref("mount/c:v1")
	d.OK(t, "tag", "busybox", refC)
	res := d.Docker(t, harness.DockerCLI, "push", refC)
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, id+": Mounted from mount/"), res.Stdout)

	// Repositories that no longer hold the blob: the mounts are refused,
	// and the layer's own blob is uploaded.
	for _, repo := range []string{"a", "b", "c"} {
		link := filepath.Join(r.Storage, "docker", "registry", "v2", "repositories", "mount", repo, "_layers", "sha256", hexd)
		assert.NilError(t, os.RemoveAll(link))
	}
	refD := r.Ref("mount/d:v1")
	d.OK(t, "tag", "busybox", refD)
	out = push(refD)
	assert.Check(t, is.Contains(out, id+": Pushed"), out)
	assert.Check(t, is.Equal(r.Manifest(t, "mount/d:v1").Layers[0].Digest, layer))
	res = berthWith(t, harness.New(t), cfgDir, "", "pull", refD)
	assert.Check(t, res.ExitCode == 0, res.Combined())

	// An image pulled from the registry (blobs compressed by skopeo) and
	// pushed to another repository: its blobs are mounted as they are.
	r.Push(t, "docker-archive:"+derivedArchive(t, "derived:v1"), "src/derived:v1")
	src := r.Manifest(t, "src/derived:v1")
	d2 := harness.New(t)
	res = berthWith(t, d2, cfgDir, "", "pull", r.Ref("src/derived:v1"))
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	d2.OK(t, "tag", r.Ref("src/derived:v1"), r.Ref("dst/derived:v1"))
	res = berthWith(t, d2, cfgDir, "", "push", r.Ref("dst/derived:v1"))
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	assert.Check(t, is.Equal(strings.Count(res.Stdout, "Mounted from src/derived"), 2), res.Stdout)
	dst := r.Manifest(t, "dst/derived:v1")
	assert.Equal(t, len(dst.Layers), len(src.Layers))
	for i := range src.Layers {
		assert.Check(t, is.Equal(dst.Layers[i].Digest, src.Layers[i].Digest))
	}
	matches, err := filepath.Glob(filepath.Join(d2.DataRoot, "image", "layers", "*", "blob.tar.gz"))
	assert.NilError(t, err)
	assert.Check(t, is.Len(matches, 0), "layers compressed for a push that mounted them")
	assert.Equal(t, d2.OK(t, "run", "--rm", r.Ref("dst/derived:v1"), "cat", "/derived.txt"), "derived")
}

// TestRegistryTLSWithCA uses a registry with htpasswd auth serving HTTPS
// with a certificate from a CA the test makes, on an address that is not
// loopback (the gateway of the test daemon's bridge), so the registry is
// secure as Docker sees it: its certificate is verified. Without the CA
// in the registry's certs.d directory (--registry-certs-dir, a temporary
// one) login and pull fail saying the certificate is not trusted, with no
// fallback to plain HTTP; with it, an anonymous pull is refused as
// unauthorized, and after berth login (and docker login through POST
// /auth) pull and push work over verified TLS.
func TestRegistryTLSWithCA(t *testing.T) {
	certsRoot := t.TempDir()
	d := harness.NewWithImage(t, harness.WithArgs("--registry-certs-dir", certsRoot), harness.WithBridgeUnproxied())
	// The bridge, and its gateway address, exist while a container is on it.
	d.OK(t, "run", "-d", "--name", "keep", "busybox", "sleep", "600")
	t.Cleanup(func() { _ = d.Berth(t, "rm", "-f", "keep") })
	_, subnet, err := net.ParseCIDR(d.BridgeSubnet())
	assert.NilError(t, err)
	gw := slices.Clone(subnet.IP.To4())
	gw[3] = 1
	ca := newTestCA(t)
	r := startRegistryWith(t, registryOpts{user: "alice", pass: "s3cret", tls: true, ca: ca, host: gw.String()})
	r.Push(t, "docker-archive:"+harness.TestImage(t), "private/busybox:v1")
	ref := r.Ref("private/busybox:v1")
	cfgDir := t.TempDir()
	before := d.Snapshot(t)
	untrusted := "the registry's TLS certificate is not trusted"

	res := berthWith(t, d, cfgDir, "s3cret\n", "login", "-u", "alice", "--password-stdin", r.Addr)
	assert.Check(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, untrusted))
	assert.Check(t, is.Contains(res.Stderr, "x509: certificate signed by unknown authority"))
	res = berthWith(t, d, cfgDir, "", "pull", ref)
	assert.Check(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, untrusted))
	d.AssertUnchanged(t, before, "after the pulls refused for the certificate")
	log, err := os.ReadFile(r.LogPath)
	assert.NilError(t, err)
	assert.Check(t, !strings.Contains(string(log), "HTTP request to an HTTPS server"), "plain HTTP fallback:\n%s", log)

	hostDir := filepath.Join(certsRoot, r.Addr)
	assert.NilError(t, os.MkdirAll(hostDir, 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(hostDir, "ca.crt"), ca.PEM, 0o644))

	res = berthWith(t, d, cfgDir, "", "pull", ref)
	assert.Check(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "unauthorized: authentication required"))
	res = berthWith(t, d, cfgDir, "wrong\n", "login", "-u", "alice", "--password-stdin", r.Addr)
	assert.Check(t, res.ExitCode != 0, res.Combined())
	assert.Check(t, is.Contains(res.Stderr, "unauthorized"))
	res = berthWith(t, d, cfgDir, "s3cret\n", "login", "-u", "alice", "--password-stdin", r.Addr)
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	res = berthWith(t, d, cfgDir, "", "pull", ref)
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	assert.Equal(t, d.OK(t, "run", "--rm", ref, "echo", "verified"), "verified")
	d.OK(t, "tag", ref, r.Ref("private/again:v1"))
	res = berthWith(t, d, cfgDir, "", "push", r.Ref("private/again:v1"))
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "Mounted from private/busybox"))
	assert.Check(t, is.Contains(res.Stdout, "v1: digest: "+r.Digest(t, "private/again:v1")))

	harness.RequireTool(t, harness.DockerCLI)
	env := []string{"DOCKER_HOST=" + d.Host(), "DOCKER_CONFIG=" + t.TempDir()}
	docker := func(stdin string, args ...string) harness.Result {
		return harness.Run(t, harness.Command{Bin: harness.DockerCLI, Args: args, Env: env, Stdin: stdin})
	}
	d.OK(t, "rmi", ref, r.Ref("private/again:v1"))
	res = docker("s3cret\n", "login", "-u", "alice", "--password-stdin", r.Addr)
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	res = docker("", "pull", ref)
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "Status: Downloaded newer image for "+ref))
	d.OK(t, "tag", ref, r.Ref("private/docker:v1"))
	res = docker("", "push", r.Ref("private/docker:v1"))
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	assert.Check(t, is.Contains(res.Stdout, "v1: digest: "+r.Digest(t, "private/docker:v1")))
}

// TestRegistryPushLayersInOrder: the layers of an image go up in parallel
// (five at a time, as dockerd's), and the manifest still lists them in the
// image's order: another daemon pulls back the same image ID.
func TestRegistryPushLayersInOrder(t *testing.T) {
	r := startRegistry(t, "", "")
	d := harness.NewWithImage(t)
	cfgDir := t.TempDir()
	d.OK(t, "load", "-i", derivedArchive(t, "derived:v1"))
	ref := r.Ref("order/derived:v1")
	d.OK(t, "tag", "derived:v1", ref)
	res := berthWith(t, d, cfgDir, "", "push", ref)
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	assert.Check(t, is.Equal(strings.Count(res.Stdout, ": Pushed"), 2), res.Stdout)
	id := d.OK(t, "inspect", "--format", "{{.Id}}", ref)
	layers := d.OK(t, "inspect", "--format", "{{len .RootFS.Layers}}", ref)
	assert.Equal(t, layers, "2")
	d2 := harness.New(t)
	res = berthWith(t, d2, cfgDir, "", "pull", ref)
	assert.Assert(t, res.ExitCode == 0, res.Combined())
	assert.Equal(t, d2.OK(t, "inspect", "--format", "{{.Id}}", ref), id, "the image pulled back")
}
