// Package daemon holds berthd's use cases, each in a small file named for
// it (create.go, start.go, stop.go, delete.go, restore.go, ...). They are
// thin: the decisions live in pure packages below (mountspec, runspec,
// oci, secopts), the mechanisms in others (shimclient, images, volumes,
// network, chrootarchive). The Daemon implements the API server's Backend.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/daemon/seccompbpf"

	containertypes "github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/config"
	"github.com/berth-project/berth/daemon/events"
	"github.com/berth-project/berth/daemon/images"
	"github.com/berth-project/berth/daemon/logconfig"
	"github.com/berth-project/berth/daemon/mountspec"
	"github.com/berth-project/berth/daemon/netfiles"
	"github.com/berth-project/berth/daemon/network"
	"github.com/berth-project/berth/daemon/network/dnsserver"
	"github.com/berth-project/berth/daemon/oci"
	"github.com/berth-project/berth/daemon/registry"
	"github.com/berth-project/berth/daemon/resources"
	"github.com/berth-project/berth/daemon/shimclient"
	"github.com/berth-project/berth/daemon/volumes"
	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// Version is berth's version, set at build time.
var Version = "0.1.0-dev"

// GitCommit is the commit berthd was built from, set at build time.
var GitCommit = "unknown"

// Daemon is the running berthd.
type Daemon struct {
	cfg        config.Config
	self       string // path of the berthd binary, for helpers
	shimBin    string // the shim's binary: berth-shim next to berthd, or berthd
	log        *slog.Logger
	locks      []*os.File
	hardNofile uint64
	hostCaps   []string // the daemon's bounding set: containers get no more
	// rroCache holds runtimeHasRRO's answer per runtime path.
	rroCache sync.Map
	// host is what the host's cgroups can limit, probed once at start.
	host resources.Host
	// tmpfsPolicy is the tmpfs part of cfg, parsed once.
	tmpfsPolicy mountspec.Policy
	// seccomp is the default seccomp profile (--seccomp-profile).
	seccomp oci.Seccomp
	// seccompBPF compiles seccomp profiles once for crun's annotation.
	seccompBPF *seccompbpf.Compiler

	containers *container.Store
	images     *images.Store
	registry   *registry.Service
	volumes    *volumes.Store
	networks   *network.Store
	dns        *dnsserver.Servers // DNS servers of the user networks
	cni        *network.CNI
	pool       network.Pool // subnets of new networks
	events     *events.Bus

	hooksMu       sync.Mutex // guards endpointHooks, isolated
	mountpointMu  sync.Mutex // serialises the builds of shared mount-point layers
	endpointHooks []func(EndpointEvent)
	isolated      map[string]bool // bridges whose isolation rules are in

	mu   sync.Mutex // guards live
	live map[string]*live

	execs execStore // exec instances, in memory only

	ctx      context.Context // ends when the daemon shuts down
	cancel   context.CancelFunc
	monitors sync.WaitGroup
}

// live is what the daemon holds for a container beyond its persisted
// model: its shim, the waiters for state changes and the attach sessions
// waiting for a start.
type live struct {
	shim     *shimclient.Client
	prev     *shimclient.Client // the shim of the last run, until its process is gone
	waiters  []*waiter
	pending  []*pendingAttach
	stopping bool          // a user asked for the stop: no restart policy applies
	exited   chan struct{} // closed when the current run ends
	// healthStop ends the health checks of the current run.
	healthStop context.CancelFunc

	// restarting: a user's restart is stopping the container, so its
	// exit does not apply AutoRemove.
	restarting bool

	// netFiles: what the daemon last wrote to the container's hostname,
	// hosts and resolv.conf files (writeNetworkFiles), so that a start
	// that would write the same to an untouched file skips it.
	netFiles [3]netfiles.Written
}

// New opens (or creates) the data and exec roots, takes their locks and
// restores the containers of a previous run.
func New(cfg config.Config, logger *slog.Logger) (*Daemon, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	d := &Daemon{
		cfg:        cfg,
		self:       self,
		log:        logger,
		containers: container.NewStore(),
		live:       map[string]*live{},
		events:     events.New(),
		isolated:   map[string]bool{},
	}
	d.seccompBPF = &seccompbpf.Compiler{
		Helper: filepath.Join(filepath.Dir(self), "berth-seccomp"),
		Dir:    filepath.Join(cfg.ExecRoot, "seccomp"),
		Log:    logger,
	}
	if d.tmpfsPolicy, err = mountspec.NewPolicy(cfg.DefaultTmpfsSize, cfg.MaxTmpfsSize, cfg.TmpfsCopyUp); err != nil {
		return nil, err
	}
	if _, err := logconfig.Resolve(d.defaultLogConfig(), containertypes.LogConfig{}); err != nil {
		return nil, fmt.Errorf("--log-driver/--log-opt: %w", err)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			d.unlock()
		}
	}()
	for _, dir := range []string{cfg.DataRoot, cfg.ExecRoot} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return nil, err
		}
		f, err := lockDir(dir)
		if err != nil {
			return nil, err
		}
		d.locks = append(d.locks, f)
	}
	if err := checkSocketFree(cfg.SocketPath()); err != nil {
		return nil, err
	}
	for _, dir := range []string{d.containersDir(), d.shimsDir(), d.runtimeRoot(), filepath.Join(cfg.ExecRoot, "s")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	if d.images, err = images.New(filepath.Join(cfg.DataRoot, "image")); err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	if d.registry, err = registry.New(registry.Config{Insecure: cfg.InsecureRegistries, Mirrors: cfg.RegistryMirrors, CertsDirs: cfg.RegistryCertsDirs}); err != nil {
		return nil, err
	}
	if d.volumes, err = volumes.New(filepath.Join(cfg.DataRoot, "volumes"), volumes.Checks{KernelSupports: tmpfsopt.KernelSupports, Tmpfs: d.tmpfsPolicy.VolumeTmpfs}); err != nil {
		return nil, fmt.Errorf("open volume store: %w", err)
	}
	d.dns = dnsserver.NewServers()
	d.OnEndpoint(d.namesOnEndpoint)
	subnet, gw, err := network.ParseBIP(cfg.BIP)
	if err != nil {
		return nil, err
	}
	if d.pool, err = network.ParsePool(cfg.DefaultAddressPool); err != nil {
		return nil, err
	}
	if d.networks, err = network.New(filepath.Join(cfg.DataRoot, "networks.json"), time.Now().UTC(), network.DefaultBridge{Name: cfg.Bridge, Subnet: subnet, Gateway: gw}); err != nil {
		return nil, fmt.Errorf("open network store: %w", err)
	}
	if d.cni, err = network.NewCNI(filepath.Join(cfg.DataRoot, "network")); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(d.netnsDir(), 0o700); err != nil {
		return nil, err
	}
	d.shimBin = d.shimBinary()
	d.chooseRuntime()
	if _, err := d.runtimePath(d.cfg.Runtime); err != nil {
		return nil, err
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil {
		d.hardNofile = rl.Max
	}
	d.hostCaps = hostCapabilities()
	d.host = resources.Probe("/sys/fs/cgroup")
	if d.seccomp, err = loadSeccompProfile(cfg.SeccompProfile); err != nil {
		return nil, err
	}
	if err := d.restore(); err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

// lockDir takes an exclusive lock on dir so that two daemons never share it.
//
// It is a POSIX record lock (fcntl F_SETLK), owned by this process, not an
// flock: an flock belongs to the open file, which every child shares from
// fork until its exec closes the descriptor. A shim is spawned with a mount
// namespace of its own, made rprivate before exec, which takes a while on a
// busy host; a daemon killed in that window left its lock held by the
// half-spawned shim, and the restarted daemon refused to start. A record
// lock is not inherited and ends with this process. It also ends when this
// process closes any descriptor of the lock file: nothing else opens it.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "berthd.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	whole := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart} // Len 0: the whole file
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &whole); err != nil {
		f.Close()
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		return nil, fmt.Errorf("%s is in use by another berthd (lock %s held): stop it or use another --data-root/--exec-root", dir, f.Name())
	}
	return f, nil
}

// checkSocketFree refuses a socket another daemon answers on.
func checkSocketFree(path string) error {
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		conn.Close()
		return fmt.Errorf("another daemon is listening on %s: stop it or use another --host", path)
	}
	return nil
}

func (d *Daemon) unlock() {
	for _, f := range d.locks {
		f.Close()
	}
	d.locks = nil
}

// Shutdown stops watching containers. Running containers keep running under
// their shims; the next daemon finds them again.
func (d *Daemon) Shutdown() {
	d.cancel()
	if err := d.dns.Close(); err != nil {
		d.log.Warn("stop DNS servers", "err", err)
	}
	done := make(chan struct{})
	go func() { d.monitors.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	d.unlock()
}

func (d *Daemon) containersDir() string { return filepath.Join(d.cfg.DataRoot, "containers") }
func (d *Daemon) shimsDir() string      { return filepath.Join(d.cfg.ExecRoot, "containers") }
func (d *Daemon) runtimeRoot() string   { return filepath.Join(d.cfg.ExecRoot, "runtime") }
func (d *Daemon) shimDir(id string) string {
	return filepath.Join(d.shimsDir(), id)
}

// shimSocket is short on purpose: a unix socket path must fit in sun_path
// (108 bytes), and exec roots under a test's temporary directory are long.
// The sockets live apart from the shim directories so that a scan of those
// never mistakes one for a directory.
func (d *Daemon) shimSocket(id string) string {
	if len(id) > 32 {
		id = id[:32]
	}
	return filepath.Join(d.cfg.ExecRoot, "s", id+".sock")
}

// runtimePath resolves a runtime name (runc, crun) or path to a binary.
func (d *Daemon) runtimePath(name string) (string, error) {
	if name == "" {
		name = d.cfg.Runtime
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("unknown or invalid runtime name: %s: %w", name, errInvalid)
	}
	return p, nil
}

// liveOf returns the live record of a container, making one if needed.
func (d *Daemon) liveOf(id string) *live {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.live[id]
	if !ok {
		l = &live{}
		d.live[id] = l
	}
	return l
}

var errShimGone = errors.New("the container's shim is gone")

// hostCapabilities reads the daemon's bounding capability set: root on
// some hosts lacks capabilities (CAP_SYS_RESOURCE here), and a runtime
// asked for one it cannot grant fails.
func hostCapabilities() []string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return nil
			}
			return oci.CapabilitiesFromMask(mask)
		}
	}
	return nil
}
