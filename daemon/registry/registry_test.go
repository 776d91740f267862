package registry

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	d := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct{ ref, tag, want, err string }{
		{ref: "busybox", want: "docker.io/library/busybox:latest"},
		{ref: "busybox", tag: "1.36", want: "docker.io/library/busybox:1.36"},
		{ref: "foo/bar:v1", want: "docker.io/foo/bar:v1"},
		{ref: "127.0.0.1:5000/x/y", want: "127.0.0.1:5000/x/y:latest"},
		{ref: "busybox@" + d, want: "docker.io/library/busybox@" + d},
		{ref: "busybox", tag: d, want: "docker.io/library/busybox@" + d},
		{ref: "UPPER", err: "invalid reference format"},
	}
	for _, tc := range tests {
		got, err := Normalize(tc.ref, tc.tag)
		if tc.err != "" {
			assert.Check(t, errdefs.IsInvalidArgument(err), "%s: %v", tc.ref, err)
			assert.Check(t, is.ErrorContains(err, tc.err))
			continue
		}
		assert.NilError(t, err)
		assert.Check(t, is.Equal(got.String(), tc.want))
	}
}

func TestInsecure(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Insecure: []string{"10.1.0.0/16", "myreg:5000", "plain.example"}})
	assert.NilError(t, err)
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.9.9.9": true, "localhost:5000": true,
		"10.1.2.3:443": true, "10.2.0.1": false, "myreg:5000": true, "myreg:5001": false,
		"plain.example:8443": true, "docker.io": false, "index.docker.io": false,
	} {
		assert.Check(t, is.Equal(s.isInsecure(host), want), host)
	}
	_, err = New(Config{Insecure: []string{"http://x"}})
	assert.Check(t, errdefs.IsInvalidArgument(err))
}

func TestDecodeAuth(t *testing.T) {
	t.Parallel()
	enc := base64.URLEncoding.EncodeToString([]byte(`{"username":"a","password":"b?>","serveraddress":"r:1"}`))
	ac, err := DecodeAuth(enc)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(ac.Username, "a"))
	assert.Check(t, is.Equal(ac.Password, "b?>"))
	ac, err = DecodeAuth(base64.RawURLEncoding.EncodeToString([]byte(`{"username":"x"}`)))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(ac.Username, "x"))
	ac, err = DecodeAuth("")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(ac.Username, ""))
	_, err = DecodeAuth("!!!")
	assert.Check(t, errdefs.IsInvalidArgument(err))
	_, err = DecodeAuth(base64.URLEncoding.EncodeToString([]byte("not json")))
	assert.Check(t, errdefs.IsInvalidArgument(err))
}

func TestChoosePlatform(t *testing.T) {
	t.Parallel()
	desc := func(os, arch, variant, hex string) v1.Descriptor {
		return v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: hex}, Platform: &v1.Platform{OS: os, Architecture: arch, Variant: variant}}
	}
	list := []v1.Descriptor{
		{Digest: v1.Hash{Algorithm: "sha256", Hex: "nop"}},
		desc("linux", "amd64", "", "a"),
		desc("linux", "arm", "v6", "b"),
		desc("linux", "arm", "v7", "c"),
		desc("linux", "arm64", "v8", "d"),
		desc("unknown", "unknown", "", "e"),
	}
	tests := []struct{ platform, want, err string }{
		{platform: "linux/amd64", want: "a"},
		{platform: "linux/x86_64", want: "a"},
		{platform: "linux/arm/v7", want: "c"},
		{platform: "linux/arm", want: "b"},
		{platform: "linux/arm64", want: "d"},
		{platform: "linux/aarch64", want: "d"},
		{platform: "linux/s390x", err: "no matching manifest for linux/s390x in the manifest list entries"},
		{platform: "windows/amd64", err: "no matching manifest for windows/amd64"},
	}
	for _, tc := range tests {
		p, err := ParsePlatform(tc.platform)
		assert.NilError(t, err)
		got, err := choosePlatform(list, p)
		if tc.err != "" {
			assert.Check(t, errdefs.IsNotFound(err))
			assert.Check(t, is.ErrorContains(err, tc.err), tc.platform)
			continue
		}
		assert.NilError(t, err, tc.platform)
		assert.Check(t, is.Equal(got.Digest.Hex, tc.want), tc.platform)
	}
	for _, bad := range []string{"", "/", "linux//v7", "a/b/c/d"} {
		_, err := ParsePlatform(bad)
		assert.Check(t, errdefs.IsInvalidArgument(err), bad)
	}
}

func TestCheckConfigPlatform(t *testing.T) {
	t.Parallel()
	want := ocispec.Platform{OS: "linux", Architecture: "arm64"}
	assert.NilError(t, checkConfigPlatform([]byte(`{"os":"linux","architecture":"arm64","variant":"v8"}`), want))
	err := checkConfigPlatform([]byte(`{"os":"linux","architecture":"amd64"}`), want)
	assert.Check(t, is.ErrorContains(err, "does not match the specified platform (linux/arm64)"))
}

func TestCertsDir(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	host := "reg.example:5000"
	assert.NilError(t, os.MkdirAll(filepath.Join(dir, host), 0o755))
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	assert.NilError(t, os.WriteFile(filepath.Join(dir, host, "ca.crt"), caPEM, 0o644))
	s, err := New(Config{CertsDirs: []string{dir}})
	assert.NilError(t, err)

	cfg, err := s.tlsConfig(host)
	assert.NilError(t, err)
	assert.Check(t, !cfg.InsecureSkipVerify)
	_, err = srv.Certificate().Verify(x509.VerifyOptions{Roots: cfg.RootCAs, DNSName: "example.com"})
	assert.Check(t, err == nil, "the certs.d CA is not trusted: %v", err)

	cfg, err = s.tlsConfig("other.example:5000")
	assert.NilError(t, err)
	assert.Check(t, cfg.RootCAs == nil, "another registry gets only the system CAs")

	cfg, err = s.tlsConfig("127.0.0.1:5000")
	assert.NilError(t, err)
	assert.Check(t, cfg.InsecureSkipVerify, "loopback registries are insecure")

	// A key without its certificate is an error, not ignored.
	assert.NilError(t, os.WriteFile(filepath.Join(dir, host, "client.key"), []byte("x"), 0o600))
	_, err = s.tlsConfig(host)
	assert.Check(t, is.ErrorContains(err, "has no matching .cert"))
}

func TestMirrors(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Mirrors: []string{"http://127.0.0.1:5000", "https://mirror.example/"}})
	assert.NilError(t, err)
	named, err := Normalize("busybox", "")
	assert.NilError(t, err)
	var got []string
	for _, r := range s.mirrorRefs(named) {
		got = append(got, r.String()+" "+r.Context().Scheme())
	}
	assert.Check(t, is.DeepEqual(got, []string{"127.0.0.1:5000/library/busybox:latest http", "mirror.example/library/busybox:latest https"}))
	other, err := Normalize("quay.io/x/y", "v1")
	assert.NilError(t, err)
	assert.Check(t, is.Len(s.mirrorRefs(other), 0), "mirrors are for Docker Hub only")
	for _, bad := range []string{"mirror.example", "ftp://m", "https://m/path", "https://u:p@m"} {
		_, err := New(Config{Mirrors: []string{bad}})
		assert.Check(t, errdefs.IsInvalidArgument(err), bad)
	}
}

// TestSecureRegistryTransport: a registry that is not insecure is only
// spoken to over verified TLS; a certificate it cannot verify is an error
// that says so.
func TestSecureRegistryTransport(t *testing.T) {
	t.Parallel()
	s, err := New(Config{CertsDirs: []string{t.TempDir()}})
	assert.NilError(t, err)
	rt, err := s.transport("reg.example:5000")
	assert.NilError(t, err)
	req, err := http.NewRequest(http.MethodGet, "http://reg.example:5000/v2/", nil)
	assert.NilError(t, err)
	_, err = rt.RoundTrip(req)
	assert.Check(t, is.ErrorContains(err, "refusing plain HTTP to registry reg.example:5000"))

	// Loopback is insecure: plain HTTP is allowed there.
	rt, err = s.transport("127.0.0.1:5000")
	assert.NilError(t, err)
	_, ok := rt.(*http.Transport)
	assert.Check(t, ok, "loopback registry transport is %T", rt)

	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, err = (&http.Client{}).Get(srv.URL)
	assert.Assert(t, err != nil)
	cerr := classify(err, "pulling reg.example:5000/x")
	assert.Check(t, errdefs.IsUnavailable(cerr), "%v", cerr)
	assert.Check(t, is.ErrorContains(cerr, "pulling reg.example:5000/x: the registry's TLS certificate is not trusted: "))
	assert.Check(t, is.ErrorContains(cerr, "certs.d/HOST:PORT/ca.crt"))
	assert.Check(t, certificateError(errors.New("other")) == nil)
}
