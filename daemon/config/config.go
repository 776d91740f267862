// Package config holds berthd's settings: command-line flags and the
// daemon.json file with the same keys.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	units "github.com/docker/go-units"
	"github.com/spf13/pflag"
)

// Config is the daemon's configuration.
type Config struct {
	Hosts      []string `json:"hosts,omitempty"`
	DataRoot   string   `json:"data-root,omitempty"`
	ExecRoot   string   `json:"exec-root,omitempty"`
	Runtime    string   `json:"default-runtime,omitempty"`
	LogLevel   string   `json:"log-level,omitempty"`
	ConfigFile string   `json:"-"`

	// Tmpfs policy.
	TmpfsCopyUp      bool   `json:"tmpfs-copyup"`
	DefaultTmpfsSize string `json:"default-tmpfs-size,omitempty"`
	MaxTmpfsSize     string `json:"max-tmpfs-size,omitempty"`
	DefaultShmSize   string `json:"default-shm-size,omitempty"`

	// Production mode defaults: every new container read-only unless a
	// label opts out; automatic tmpfs on /run, /tmp, /var/tmp of
	// read-only containers.
	ReadOnlyDefault bool `json:"read-only-default,omitempty"`
	ReadOnlyTmpfs   bool `json:"read-only-tmpfs,omitempty"`

	// SeccompProfile is the containers' default seccomp profile: "builtin"
	// (or ""; Docker's default), "unconfined" or a profile file's path.
	SeccompProfile string `json:"seccomp-profile,omitempty"`

	// LogDriver and LogOpts are the default logging of containers that
	// set none (json-file, local or none).
	LogDriver string            `json:"log-driver,omitempty"`
	LogOpts   map[string]string `json:"log-opts,omitempty"`
	// Init runs an init as PID 1 in containers that do not say; InitPath
	// is the init binary (Debian's tini-static by default).
	Init     bool   `json:"init,omitempty"`
	InitPath string `json:"init-path,omitempty"`
	// Networking, with dockerd's flag names: the default bridge's Linux
	// bridge and its gateway address with the subnet's length, and the
	// pool that subnets of new networks come from.
	Bridge             string `json:"bridge,omitempty"`
	BIP                string `json:"bip,omitempty"`
	DefaultAddressPool string `json:"default-address-pool,omitempty"`
	// InsecureRegistries are registries (host[:port] or CIDR) reached
	// without TLS verification; 127.0.0.0/8 always is.
	InsecureRegistries []string `json:"insecure-registries,omitempty"`
	// RegistryMirrors are Docker Hub mirrors (http[s]://host[:port]).
	RegistryMirrors []string `json:"registry-mirrors,omitempty"`
	// RegistryCertsDirs hold per-registry certificates (DIR/HOST:PORT/),
	// instead of /etc/docker/certs.d and /etc/berth/certs.d (a Berth
	// extension: dockerd's directory is fixed).
	RegistryCertsDirs []string `json:"registry-certs-dirs,omitempty"`
}

// DefaultInitPath is where Debian's tini package installs its static
// binary.
const DefaultInitPath = "/usr/bin/tini-static"

// Defaults are the values without flags or file.
func Defaults() Config {
	return Config{
		Hosts:       []string{"unix:///run/berth.sock"},
		DataRoot:    "/var/lib/berth",
		ExecRoot:    "/run/berth",
		LogLevel:    "info",
		ConfigFile:  "/etc/berth/daemon.json",
		TmpfsCopyUp: true,
		// Docker's default bridge subnet, on a bridge of Berth's own
		// (docker0 belongs to dockerd).
		Bridge:             "berth0",
		BIP:                "172.17.0.1/16",
		DefaultAddressPool: "base=172.18.0.0/16,size=24",
	}
}

// AddFlags binds the flags to c.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	fs.StringSliceVarP(&c.Hosts, "host", "H", c.Hosts, "Daemon socket to listen on (unix:///path)")
	fs.StringVar(&c.DataRoot, "data-root", c.DataRoot, "Root directory of persistent state")
	fs.StringVar(&c.ExecRoot, "exec-root", c.ExecRoot, "Root directory of runtime state")
	fs.StringVar(&c.Runtime, "runtime", c.Runtime, "Default OCI runtime: runc, crun or a path (default: crun where it runs a probe container at start, else runc)")
	fs.StringVarP(&c.LogLevel, "log-level", "l", c.LogLevel, "Log level: debug, info, warn, error")
	fs.StringVar(&c.ConfigFile, "config-file", c.ConfigFile, "Daemon configuration file")
	fs.BoolVar(&c.TmpfsCopyUp, "tmpfs-copyup", c.TmpfsCopyUp, "Copy the image's content into tmpfs mounts by default")
	fs.StringVar(&c.DefaultTmpfsSize, "default-tmpfs-size", c.DefaultTmpfsSize, "Size of tmpfs mounts that set none (e.g. 64m); empty: the kernel's default")
	fs.StringVar(&c.MaxTmpfsSize, "max-tmpfs-size", c.MaxTmpfsSize, "Refuse tmpfs mounts larger than this (or unlimited) at create")
	fs.StringVar(&c.DefaultShmSize, "default-shm-size", c.DefaultShmSize, "Default size of /dev/shm (64m)")
	fs.StringVar(&c.LogDriver, "log-driver", c.LogDriver, "Default driver for container logs: json-file, local or none")
	fs.StringToStringVar(&c.LogOpts, "log-opt", c.LogOpts, "Default log driver options (max-size=10m,max-file=3)")
	fs.BoolVar(&c.Init, "init", c.Init, "Run an init inside containers to forward signals and reap processes")
	fs.StringVar(&c.InitPath, "init-path", c.InitPath, "Path to the init binary (default "+DefaultInitPath+")")
	fs.BoolVar(&c.ReadOnlyDefault, "read-only-default", c.ReadOnlyDefault, "Create containers with a read-only root filesystem unless label io.berth.read-only=false")
	fs.BoolVar(&c.ReadOnlyTmpfs, "read-only-tmpfs", c.ReadOnlyTmpfs, "Mount a fresh tmpfs (with copy-up) on /run, /tmp and /var/tmp of read-only containers that mount nothing there")
	fs.StringVar(&c.SeccompProfile, "seccomp-profile", c.SeccompProfile, `Path to the default seccomp profile, or "unconfined" or "builtin"`)
	fs.StringVarP(&c.Bridge, "bridge", "b", c.Bridge, "Linux bridge of the default bridge network")
	fs.StringVar(&c.BIP, "bip", c.BIP, "Gateway address and subnet length of the default bridge network")
	fs.StringVar(&c.DefaultAddressPool, "default-address-pool", c.DefaultAddressPool, "Pool of subnets for new networks (base=CIDR,size=BITS)")
	fs.StringSliceVar(&c.RegistryMirrors, "registry-mirror", c.RegistryMirrors, "Docker Hub mirror (http[s]://host[:port]), tried before Docker Hub")
	fs.StringSliceVar(&c.RegistryCertsDirs, "registry-certs-dir", c.RegistryCertsDirs, "Directory of per-registry certificates (DIR/HOST:PORT/*.crt, *.cert, *.key), instead of /etc/docker/certs.d and /etc/berth/certs.d")
	fs.StringSliceVar(&c.InsecureRegistries, "insecure-registry", c.InsecureRegistries, "Registry (host[:port] or CIDR) reached over plain HTTP or without TLS verification")
}

// Load reads the config file (if it exists) into c for every key whose
// flag was not set on the command line. A file that was named explicitly
// must exist.
func (c *Config) Load(fs *pflag.FlagSet) error {
	data, err := os.ReadFile(c.ConfigFile)
	if err != nil {
		if os.IsNotExist(err) && !fs.Changed("config-file") {
			return nil
		}
		return fmt.Errorf("read config file: %w", err)
	}
	var file Config
	file.TmpfsCopyUp = c.TmpfsCopyUp
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return fmt.Errorf("config file %s: %w: %w", c.ConfigFile, err, errdefs.ErrInvalidArgument)
	}
	set := func(flag string, apply func()) {
		if !fs.Changed(flag) {
			apply()
		}
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(data, &raw)
	has := func(k string) bool { _, ok := raw[k]; return ok }
	if has("hosts") {
		set("host", func() { c.Hosts = file.Hosts })
	}
	if has("data-root") {
		set("data-root", func() { c.DataRoot = file.DataRoot })
	}
	if has("exec-root") {
		set("exec-root", func() { c.ExecRoot = file.ExecRoot })
	}
	if has("default-runtime") {
		set("runtime", func() { c.Runtime = file.Runtime })
	}
	if has("log-level") {
		set("log-level", func() { c.LogLevel = file.LogLevel })
	}
	if has("tmpfs-copyup") {
		set("tmpfs-copyup", func() { c.TmpfsCopyUp = file.TmpfsCopyUp })
	}
	if has("default-tmpfs-size") {
		set("default-tmpfs-size", func() { c.DefaultTmpfsSize = file.DefaultTmpfsSize })
	}
	if has("max-tmpfs-size") {
		set("max-tmpfs-size", func() { c.MaxTmpfsSize = file.MaxTmpfsSize })
	}
	if has("default-shm-size") {
		set("default-shm-size", func() { c.DefaultShmSize = file.DefaultShmSize })
	}
	if has("log-driver") {
		set("log-driver", func() { c.LogDriver = file.LogDriver })
	}
	if has("log-opts") {
		set("log-opt", func() { c.LogOpts = file.LogOpts })
	}
	if has("init") {
		set("init", func() { c.Init = file.Init })
	}
	if has("init-path") {
		set("init-path", func() { c.InitPath = file.InitPath })
	}
	if has("read-only-default") {
		set("read-only-default", func() { c.ReadOnlyDefault = file.ReadOnlyDefault })
	}
	if has("read-only-tmpfs") {
		set("read-only-tmpfs", func() { c.ReadOnlyTmpfs = file.ReadOnlyTmpfs })
	}
	if has("seccomp-profile") {
		set("seccomp-profile", func() { c.SeccompProfile = file.SeccompProfile })
	}
	if has("bridge") {
		set("bridge", func() { c.Bridge = file.Bridge })
	}
	if has("bip") {
		set("bip", func() { c.BIP = file.BIP })
	}
	if has("default-address-pool") {
		set("default-address-pool", func() { c.DefaultAddressPool = file.DefaultAddressPool })
	}
	if has("registry-mirrors") {
		set("registry-mirror", func() { c.RegistryMirrors = file.RegistryMirrors })
	}
	if has("registry-certs-dirs") {
		set("registry-certs-dir", func() { c.RegistryCertsDirs = file.RegistryCertsDirs })
	}
	if has("insecure-registries") {
		set("insecure-registry", func() { c.InsecureRegistries = file.InsecureRegistries })
	}
	return nil
}

// Validate checks values that have a form.
func (c *Config) Validate() error {
	for _, h := range c.Hosts {
		if !strings.HasPrefix(h, "unix://") {
			return fmt.Errorf("host %q: only unix:// sockets are supported: %w", h, errdefs.ErrInvalidArgument)
		}
	}
	for name, v := range map[string]string{"default-tmpfs-size": c.DefaultTmpfsSize, "max-tmpfs-size": c.MaxTmpfsSize, "default-shm-size": c.DefaultShmSize} {
		if v == "" {
			continue
		}
		if _, err := units.RAMInBytes(v); err != nil {
			return fmt.Errorf("%s: invalid size %q: %w", name, v, errdefs.ErrInvalidArgument)
		}
	}
	if n := len(c.Bridge); n == 0 || n > 15 || strings.ContainsAny(c.Bridge, "/ :") {
		return fmt.Errorf("bridge: invalid interface name %q: %w", c.Bridge, errdefs.ErrInvalidArgument)
	}
	for _, d := range c.RegistryCertsDirs {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("registry-certs-dir: %q is not an absolute path: %w", d, errdefs.ErrInvalidArgument)
		}
	}
	if c.DataRoot == "" || c.ExecRoot == "" {
		return fmt.Errorf("data-root and exec-root must not be empty: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// ShmSize returns the default /dev/shm size in bytes.
func (c *Config) ShmSize() int64 {
	if c.DefaultShmSize != "" {
		if n, err := units.RAMInBytes(c.DefaultShmSize); err == nil {
			return n
		}
	}
	return 64 << 20
}

// SocketPath returns the path of the first unix host.
func (c *Config) SocketPath() string {
	return strings.TrimPrefix(c.Hosts[0], "unix://")
}
