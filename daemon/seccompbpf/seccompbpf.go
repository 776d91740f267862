// Package seccompbpf compiles a container's seccomp profile to BPF once
// per distinct profile, for crun's run.oci.seccomp_bpf_data annotation:
// crun then installs the program as given instead of compiling the
// profile with libseccomp on every start (6-15 ms for Docker's default
// profile on three architectures).
//
// The compiling is done by berth-seccomp, a small cgo program next to
// berthd (berthd itself is static): it makes crun's libseccomp calls, so
// the program is the one crun would build. When it is missing or fails,
// the container simply gets no annotation and crun compiles the profile
// as before: never a weaker filter.
package seccompbpf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Annotation is crun's annotation for a precompiled filter.
const Annotation = "run.oci.seccomp_bpf_data"

// Skip says why a spec must not get a precompiled filter for the runtime
// at path runtimePath, or "" when it can. Only crun knows the annotation;
// a profile with a listener or SCMP_ACT_NOTIFY needs crun's own handling;
// crun's run.oci.seccomp* annotations set by the user (their own filter,
// failing on unknown syscalls) are left to crun as given.
func Skip(runtimePath string, s *specs.Spec) string {
	if filepath.Base(runtimePath) != "crun" {
		return "runtime is not crun"
	}
	if s == nil || s.Linux == nil || s.Linux.Seccomp == nil {
		return "no seccomp profile"
	}
	sc := s.Linux.Seccomp
	if sc.ListenerPath != "" || sc.ListenerMetadata != "" {
		return "seccomp listener"
	}
	if sc.DefaultAction == specs.ActNotify {
		return "SCMP_ACT_NOTIFY"
	}
	for _, r := range sc.Syscalls {
		if r.Action == specs.ActNotify {
			return "SCMP_ACT_NOTIFY"
		}
	}
	for k := range s.Annotations {
		if strings.HasPrefix(k, "run.oci.seccomp") {
			return "annotation " + k + " set by the user"
		}
	}
	return ""
}

// Key names a compiled profile: the profile's JSON, the libseccomp
// version that compiles it, the architecture and the kernel release.
func Key(profile []byte, libseccomp, arch, kernel string) string {
	h := sha256.New()
	fmt.Fprintf(h, "berth-seccomp\x00%s\x00%s\x00%s\x00", libseccomp, arch, kernel)
	h.Write(profile)
	return hex.EncodeToString(h.Sum(nil))
}

// Compiler keeps compiled profiles in memory and in Dir (a file per key,
// written atomically), and runs Helper for the ones it has not seen.
type Compiler struct {
	Helper string // berth-seccomp
	Dir    string // cache directory (under the exec root)
	Log    *slog.Logger

	mu       sync.Mutex
	version  string // libseccomp's, "" until asked
	disabled bool   // the helper is missing or broken: logged once
	mem      map[string]string
	failed   map[string]bool // profiles the helper refused: crun says why
}

// Apply adds the annotation to s when Skip allows it and the profile
// compiles; otherwise s is left as it is and crun compiles the profile.
func (c *Compiler) Apply(ctx context.Context, runtimePath string, s *specs.Spec) {
	if c == nil || Skip(runtimePath, s) != "" {
		return
	}
	b64, ok := c.compiled(ctx, s.Linux.Seccomp)
	if !ok {
		return
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[Annotation] = b64
}

func (c *Compiler) compiled(ctx context.Context, sc *specs.LinuxSeccomp) (string, bool) {
	profile, err := json.Marshal(sc)
	if err != nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disabled {
		return "", false
	}
	if c.version == "" {
		out, err := exec.CommandContext(ctx, c.Helper, "version").Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			if ctx.Err() != nil {
				return "", false // the request went away: try again next time
			}
			c.disable("cannot run the seccomp compiler", err)
			return "", false
		}
		c.version = string(bytes.TrimSpace(out))
	}
	key := Key(profile, c.version, runtime.GOARCH, kernelRelease())
	if b64, ok := c.mem[key]; ok {
		return b64, true
	}
	if c.failed[key] {
		return "", false
	}
	file := filepath.Join(c.Dir, key+".bpf")
	bpf, err := os.ReadFile(file)
	if err != nil || !validBPF(bpf) {
		bpf, err = c.run(ctx, profile)
		if err != nil {
			if ctx.Err() != nil {
				return "", false
			}
			// This profile only: crun compiles it and reports
			// what is wrong with it to the user.
			c.Log.Warn("cannot compile this seccomp profile; crun compiles it itself", "key", key, "err", err)
			if c.failed == nil {
				c.failed = map[string]bool{}
			}
			c.failed[key] = true
			return "", false
		}
		if err := writeAtomic(file, bpf); err != nil {
			c.Log.Warn("cannot keep the compiled seccomp profile", "file", file, "err", err)
		}
	}
	b64 := base64.StdEncoding.EncodeToString(bpf)
	if c.mem == nil {
		c.mem = map[string]string{}
	}
	c.mem[key] = b64
	return b64, true
}

func (c *Compiler) run(ctx context.Context, profile []byte) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Helper)
	cmd.Stdin = bytes.NewReader(profile)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if !validBPF(out.Bytes()) {
		return nil, fmt.Errorf("%s wrote %d bytes, not a BPF program", c.Helper, out.Len())
	}
	return out.Bytes(), nil
}

// disable stops precompiling for the daemon's life: crun compiles.
func (c *Compiler) disable(msg string, err error) {
	c.disabled = true
	c.Log.Warn(msg+"; crun compiles seccomp profiles itself", "helper", c.Helper, "err", err)
}

// validBPF: a non-empty whole number of 8-byte instructions, at most
// BPF_MAXINSNS (4096) of them.
func validBPF(b []byte) bool {
	return len(b) > 0 && len(b)%8 == 0 && len(b)/8 <= 4096
}

func writeAtomic(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), file)
	}
	if werr != nil {
		_ = os.Remove(f.Name())
	}
	return werr
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}
