package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/daemon/oci"
	"github.com/berth-project/berth/daemon/runspec"
)

// defaultRuntime decides the runtime of containers whose request names
// none. A runtime set with --runtime or default-runtime wins. Else crun
// where it ran the probe container (crunErr nil): it starts a container in
// about half the time runc takes. Else runc. reason says why, for the log.
func defaultRuntime(configured string, crunErr error) (name, reason string) {
	switch {
	case configured != "":
		return configured, "configured"
	case crunErr == nil:
		return "crun", "crun runs containers on this host"
	default:
		return "runc", "crun cannot run containers on this host: " + crunErr.Error()
	}
}

// probeRuntime runs one trivial container with the runtime at path: a
// read-only empty root with this daemon's binary bound into it, in new
// mount, pid, ipc, uts and network namespaces and a cgroup of its own
// under Berth's, running `berthd --version`. It fails where the runtime
// cannot run containers on this host (crun on hybrid cgroups, for one).
// dir is a scratch directory, removed afterwards.
func probeRuntime(path, self, dir string) error {
	defer os.RemoveAll(dir)
	for _, sub := range []string{"proc", "dev"} {
		if err := os.MkdirAll(filepath.Join(dir, "rootfs", sub), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "probe"), nil, 0o755); err != nil {
		return err
	}
	id := fmt.Sprintf("berth-runtime-probe-%d", os.Getpid())
	spec := specs.Spec{
		Version:  oci.SpecVersion,
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: "probe",
		Process: &specs.Process{
			Args:            []string{"/probe", "--version"},
			Cwd:             "/",
			Env:             []string{"PATH=/"},
			NoNewPrivileges: true,
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/probe", Type: "bind", Source: self, Options: []string{"bind", "ro"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: runspec.CgroupsPath(id),
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.NetworkNamespace},
			},
		},
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		return err
	}
	state := filepath.Join(dir, "state")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--root", state, "run", "--bundle", dir, id)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Whatever the run left (a cgroup, the state) goes with it.
		_ = exec.Command(path, "--root", state, "delete", "--force", id).Run()
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg == "" {
			return err
		}
		return errors.New(msg)
	}
	if !strings.Contains(string(out), Version) {
		return fmt.Errorf("the probe container printed %q, not berthd's version", strings.TrimSpace(string(out)))
	}
	return nil
}

// chooseRuntime sets the daemon's default runtime (see defaultRuntime)
// and logs the choice.
func (d *Daemon) chooseRuntime() {
	var crunErr error
	if d.cfg.Runtime == "" {
		if p, err := exec.LookPath("crun"); err != nil {
			crunErr = errors.New("crun is not installed")
		} else {
			crunErr = probeRuntime(p, d.self, filepath.Join(d.cfg.ExecRoot, "runtime-probe"))
		}
	}
	name, reason := defaultRuntime(d.cfg.Runtime, crunErr)
	d.cfg.Runtime = name
	d.log.Info("default runtime", "runtime", name, "reason", reason)
}
