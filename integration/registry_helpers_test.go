package integration

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/berth-project/berth/integration/internal/harness"
)

// testRegistry is Debian's docker-registry (the Distribution registry)
// serving its own storage on 127.0.0.1, started and stopped by the test.
type testRegistry struct {
	Addr    string // 127.0.0.1:PORT
	Storage string
	LogPath string
	creds   string // "user:pass" when htpasswd auth is on
	tls     bool
}

// testCA is a certificate authority a test makes to sign a registry's
// certificate.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	PEM  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	assert.NilError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "berth test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	assert.NilError(t, err)
	cert, err := x509.ParseCertificate(der)
	assert.NilError(t, err)
	return &testCA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serverCert writes a certificate for ip and its key into dir, signed by
// ca, or self-signed when ca is nil.
func serverCert(t *testing.T, dir string, ip net.IP, ca *testCA) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	assert.NilError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "berth test registry"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{ip},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	assert.NilError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	assert.NilError(t, err)
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	assert.NilError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	assert.NilError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certPath, keyPath
}

// startRegistry starts a registry; with user set it requires htpasswd
// basic auth for user/pass.
func startRegistry(t *testing.T, user, pass string) *testRegistry {
	t.Helper()
	return startRegistryWith(t, registryOpts{user: user, pass: pass})
}

// startRegistryTLS starts a registry, serving HTTPS with a self-signed
// certificate for 127.0.0.1 when tlsOn is set.
func startRegistryTLS(t *testing.T, user, pass string, tlsOn bool) *testRegistry {
	t.Helper()
	return startRegistryWith(t, registryOpts{user: user, pass: pass, tls: tlsOn})
}

// registryOpts say how startRegistryWith runs the registry.
type registryOpts struct {
	user, pass string  // htpasswd basic auth, when user is set
	tls        bool    // serve HTTPS
	ca         *testCA // signs the certificate (else it is self-signed)
	host       string  // local address to listen on; 127.0.0.1 if empty
}

func startRegistryWith(t *testing.T, o registryOpts) *testRegistry {
	t.Helper()
	bin := harness.RequireTool(t, "docker-registry")
	harness.RequireTool(t, "skopeo")
	dir := t.TempDir()
	host := o.host
	if host == "" {
		host = "127.0.0.1"
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	assert.NilError(t, err)
	addr := l.Addr().String()
	assert.NilError(t, l.Close())
	r := &testRegistry{Addr: addr, Storage: filepath.Join(dir, "storage"), LogPath: filepath.Join(dir, "registry.log")}
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", r.Storage, addr)
	scheme := "http"
	if o.tls {
		cert, key := serverCert(t, dir, net.ParseIP(host), o.ca)
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", cert, key)
		scheme = "https"
		r.tls = true
	}
	if o.user != "" {
		htpasswd := harness.RequireTool(t, "htpasswd")
		out, err := exec.Command(htpasswd, "-Bbn", o.user, o.pass).Output()
		assert.NilError(t, err)
		hp := filepath.Join(dir, "htpasswd")
		assert.NilError(t, os.WriteFile(hp, out, 0o600))
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n", hp)
		r.creds = o.user + ":" + o.pass
	}
	cfgPath := filepath.Join(dir, "config.yml")
	assert.NilError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	logf, err := os.Create(r.LogPath)
	assert.NilError(t, err)
	defer logf.Close()
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	assert.NilError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		select {
		case <-done:
			log, _ := os.ReadFile(r.LogPath)
			return poll.Error(fmt.Errorf("docker-registry exited:\n%s", log))
		default:
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		resp, err := client.Get(scheme + "://" + addr + "/v2/")
		if err != nil {
			return poll.Continue("waiting for the registry: %v", err)
		}
		resp.Body.Close()
		return poll.Success()
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(20*time.Millisecond))
	return r
}

// Ref is the registry's reference for name ("test/busybox:v1").
func (r *testRegistry) Ref(name string) string { return r.Addr + "/" + name }

// skopeo runs skopeo with the registry's credentials for its side.
func (r *testRegistry) skopeo(t *testing.T, args ...string) string {
	t.Helper()
	res := harness.Run(t, harness.Command{Bin: "skopeo", Args: args, Timeout: time.Minute})
	assert.Equal(t, res.ExitCode, 0, "skopeo %s: %s", strings.Join(args, " "), res.Combined())
	return strings.TrimSpace(res.Stdout)
}

// Push copies src (a skopeo source such as docker-archive:FILE or
// oci:DIR:TAG) to name in the registry, blobs and digests kept as they are.
func (r *testRegistry) Push(t *testing.T, src, name string, extra ...string) {
	t.Helper()
	args := append([]string{"copy", "--dest-tls-verify=false"}, extra...)
	if r.creds != "" {
		args = append(args, "--dest-creds", r.creds)
	}
	r.skopeo(t, append(args, src, "docker://"+r.Ref(name))...)
}

// Digest returns the manifest digest the registry serves for name.
func (r *testRegistry) Digest(t *testing.T, name string) string {
	t.Helper()
	args := []string{"inspect", "--tls-verify=false", "--raw"}
	if r.creds != "" {
		args = append(args, "--creds", r.creds)
	}
	raw := r.skopeo(t, append(args, "docker://"+r.Ref(name))...)
	sum := sha256.Sum256([]byte(raw))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Manifest returns the (single-platform) manifest the registry serves.
func (r *testRegistry) Manifest(t *testing.T, name string) ociManifest {
	t.Helper()
	args := []string{"inspect", "--tls-verify=false", "--raw"}
	if r.creds != "" {
		args = append(args, "--creds", r.creds)
	}
	var m ociManifest
	assert.NilError(t, json.Unmarshal([]byte(r.skopeo(t, append(args, "docker://"+r.Ref(name))...)), &m))
	return m
}

// BlobPath is the file the registry stores blob dgst in.
func (r *testRegistry) BlobPath(dgst string) string {
	hexd := strings.TrimPrefix(dgst, "sha256:")
	return filepath.Join(r.Storage, "docker", "registry", "v2", "blobs", "sha256", hexd[:2], hexd, "data")
}

// BlobGets counts the GET requests for blob dgst in the access log.
func (r *testRegistry) BlobGets(t *testing.T, dgst string) int {
	t.Helper()
	log, err := os.ReadFile(r.LogPath)
	assert.NilError(t, err)
	n := 0
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, `"GET /v2/`) && strings.Contains(line, "/blobs/"+dgst+" ") {
			n++
		}
	}
	return n
}

type ociDescriptor struct {
	MediaType string            `json:"mediaType"`
	Digest    string            `json:"digest"`
	Size      int64             `json:"size"`
	Platform  map[string]string `json:"platform,omitempty"`
}

type ociManifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType,omitempty"`
	Config        ociDescriptor   `json:"config"`
	Layers        []ociDescriptor `json:"layers"`
	Manifests     []ociDescriptor `json:"manifests,omitempty"`
}

// derivedArchive writes a docker-save archive of the test image with one
// more layer (a file /derived.txt), tagged ref: an image sharing its base
// layer with the test image.
func derivedArchive(t *testing.T, ref string) string {
	t.Helper()
	files := map[string][]byte{}
	f, err := os.Open(harness.TestImage(t))
	assert.NilError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		assert.NilError(t, err)
		if hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			assert.NilError(t, err)
			files[strings.TrimPrefix(hdr.Name, "./")] = b
		}
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	assert.NilError(t, json.Unmarshal(files["manifest.json"], &manifest))
	assert.Equal(t, len(manifest), 1)
	var cfg map[string]any
	assert.NilError(t, json.Unmarshal(files[manifest[0].Config], &cfg))

	layer := harness.Tar(t, []harness.TarEntry{{Name: "derived.txt", Body: "derived\n", Mode: 0o644}})
	sum := sha256.Sum256(layer)
	diffID := "sha256:" + hex.EncodeToString(sum[:])
	rootfs := cfg["rootfs"].(map[string]any)
	rootfs["diff_ids"] = append(rootfs["diff_ids"].([]any), diffID)
	if h, ok := cfg["history"].([]any); ok {
		cfg["history"] = append(h, map[string]any{"created": "2024-01-02T00:00:00Z", "created_by": "derived"})
	}
	rawCfg, err := json.Marshal(cfg)
	assert.NilError(t, err)
	cfgSum := sha256.Sum256(rawCfg)
	cfgName := hex.EncodeToString(cfgSum[:]) + ".json"
	layerName := hex.EncodeToString(sum[:]) + "/layer.tar"
	m := []map[string]any{{"Config": cfgName, "RepoTags": []string{ref}, "Layers": append(manifest[0].Layers, layerName)}}
	rawManifest, err := json.Marshal(m)
	assert.NilError(t, err)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, body []byte) {
		assert.NilError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(body)
		assert.NilError(t, err)
	}
	for _, l := range manifest[0].Layers {
		add(l, files[l])
	}
	add(layerName, layer)
	add(cfgName, rawCfg)
	add("manifest.json", rawManifest)
	assert.NilError(t, tw.Close())
	out := filepath.Join(t.TempDir(), "derived.tar")
	assert.NilError(t, os.WriteFile(out, buf.Bytes(), 0o600))
	return out
}

// multiPlatformLayout writes an OCI layout whose index (tag v1) holds the
// test image with zstd layers for this host's architecture and a copy
// whose config says linux/arm64 (or amd64 on an arm64 host). It returns
// the layout directory and the other architecture.
func multiPlatformLayout(t *testing.T, r *testRegistry, hostArch string) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	r.skopeo(t, "copy", "--dest-compress", "--dest-compress-format", "zstd", "docker-archive:"+harness.TestImage(t), "oci:"+dir+":single")
	blob := func(dgst string) string {
		return filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(dgst, "sha256:"))
	}
	write := func(b []byte) ociDescriptor {
		sum := sha256.Sum256(b)
		d := "sha256:" + hex.EncodeToString(sum[:])
		assert.NilError(t, os.WriteFile(blob(d), b, 0o644))
		return ociDescriptor{Digest: d, Size: int64(len(b))}
	}
	var index ociManifest
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	assert.NilError(t, err)
	assert.NilError(t, json.Unmarshal(raw, &index))
	assert.Equal(t, len(index.Manifests), 1)
	hostDesc := index.Manifests[0]
	raw, err = os.ReadFile(blob(hostDesc.Digest))
	assert.NilError(t, err)
	var m ociManifest
	assert.NilError(t, json.Unmarshal(raw, &m))

	other := "arm64"
	if hostArch == "arm64" {
		other = "amd64"
	}
	rawCfg, err := os.ReadFile(blob(m.Config.Digest))
	assert.NilError(t, err)
	var cfg map[string]any
	assert.NilError(t, json.Unmarshal(rawCfg, &cfg))
	cfg["architecture"] = other
	rawCfg, err = json.Marshal(cfg)
	assert.NilError(t, err)
	cd := write(rawCfg)
	om := m
	om.Config = ociDescriptor{MediaType: m.Config.MediaType, Digest: cd.Digest, Size: cd.Size}
	rawM, err := json.Marshal(om)
	assert.NilError(t, err)
	od := write(rawM)
	od.MediaType = "application/vnd.oci.image.manifest.v1+json"
	od.Platform = map[string]string{"os": "linux", "architecture": other}

	hostDesc.Platform = map[string]string{"os": "linux", "architecture": hostArch}
	hostDesc.MediaType = "application/vnd.oci.image.manifest.v1+json"
	inner := map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []ociDescriptor{od, hostDesc}}
	rawIdx, err := json.Marshal(inner)
	assert.NilError(t, err)
	id := write(rawIdx)
	top := map[string]any{"schemaVersion": 2, "manifests": []map[string]any{{
		"mediaType": "application/vnd.oci.image.index.v1+json", "digest": id.Digest, "size": id.Size,
		"annotations": map[string]string{"org.opencontainers.image.ref.name": "v1"},
	}, {
		"mediaType": hostDesc.MediaType, "digest": hostDesc.Digest, "size": hostDesc.Size,
		"annotations": map[string]string{"org.opencontainers.image.ref.name": "single"},
	}}}
	rawTop, err := json.Marshal(top)
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "index.json"), rawTop, 0o644))
	return dir, other
}

// berthWith runs the berth CLI against d with a private Docker config dir.
func berthWith(t *testing.T, d *harness.Daemon, configDir string, stdin string, args ...string) harness.Result {
	t.Helper()
	return harness.Run(t, harness.Command{
		Bin:   filepath.Join(harness.Binaries(t), "berth"),
		Args:  append([]string{"-H", d.Host()}, args...),
		Env:   []string{"DOCKER_CONFIG=" + configDir},
		Stdin: stdin,
	})
}

// imageLayerDirs lists the unpacked layers in d's image store.
func imageLayerDirs(t *testing.T, d *harness.Daemon) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(d.DataRoot, "image", "layers"))
	assert.NilError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
