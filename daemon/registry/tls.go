package registry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DefaultCertsDirs are where per-registry certificates live, as in
// Docker: DIR/HOST[:PORT]/*.crt are CAs, *.cert with *.key client
// certificates.
var DefaultCertsDirs = []string{"/etc/docker/certs.d", "/etc/berth/certs.d"}

// transport returns the HTTP transport for registry host: the system's
// CAs plus the host's certs.d CAs and client certificates; an insecure
// registry's certificate is not verified (plain HTTP is allowed too).
func (s *Service) transport(host string) (http.RoundTripper, error) {
	cfg, err := s.tlsConfig(host)
	if err != nil {
		return nil, err
	}
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	if s.isInsecure(host) {
		return t, nil
	}
	return httpsOnly{host: host, inner: t}, nil
}

// httpsOnly refuses plain HTTP to a registry that is not insecure:
// go-containerregistry falls back to HTTP for private (RFC 1918) addresses
// when HTTPS fails, where Docker only does for insecure registries, and
// credentials must not go out in the clear.
type httpsOnly struct {
	host  string
	inner http.RoundTripper
}

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && req.URL.Host == h.host {
		return nil, fmt.Errorf("refusing plain HTTP to registry %s: it is not an insecure registry", h.host)
	}
	return h.inner.RoundTrip(req)
}

// certificateError returns the TLS verification failure in err, or nil.
func certificateError(err error) error {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &cv):
		return cv
	case errors.As(err, &ua):
		return ua
	case errors.As(err, &he):
		return he
	case errors.As(err, &ci):
		return ci
	}
	return nil
}
func (s *Service) tlsConfig(host string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.isInsecure(host) {
		cfg.InsecureSkipVerify = true
	}
	for _, dir := range s.certsDirs {
		hostDir := filepath.Join(dir, host)
		if strings.ContainsAny(host, `/\`) || host == ".." || host == "." {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid registry host %q", host))
		}
		entries, err := os.ReadDir(hostDir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", hostDir, err)
		}
		for _, e := range entries {
			name := e.Name()
			p := filepath.Join(hostDir, name)
			switch {
			case strings.HasSuffix(name, ".crt"):
				pem, err := os.ReadFile(p)
				if err != nil {
					return nil, err
				}
				if cfg.RootCAs == nil {
					if cfg.RootCAs, err = x509.SystemCertPool(); err != nil {
						slog.Warn("no system certificate pool", slog.Any("error", err))
						cfg.RootCAs = x509.NewCertPool()
					}
				}
				if !cfg.RootCAs.AppendCertsFromPEM(pem) {
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s holds no PEM certificate", p))
				}
			case strings.HasSuffix(name, ".cert"):
				key := strings.TrimSuffix(p, ".cert") + ".key"
				cert, err := tls.LoadX509KeyPair(p, key)
				if err != nil {
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("client certificate %s: %v", p, err))
				}
				cfg.Certificates = append(cfg.Certificates, cert)
			case strings.HasSuffix(name, ".key"):
				if _, err := os.Stat(strings.TrimSuffix(p, ".key") + ".cert"); err != nil {
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("client key %s has no matching .cert", p))
				}
			}
		}
	}
	return cfg, nil
}
