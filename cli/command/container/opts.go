package container

import (
	"os"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"

	"github.com/berth-project/berth/cli/opts"
)

// containerOptions holds the flags shared by run and create.
type containerOptions struct {
	interactive bool
	tty         bool
	autoRemove  bool
	name        string
	env         []string
	envFiles    []string
	workdir     string
	user        string
	entrypoint  string
	readOnly    bool
	tmpfs       opts.TmpfsOpt
	volumes     []string
	mounts      opts.MountOpt
	network     string
	hostname    string
	labels      []string
	labelFiles  []string
	runtime     string
	shmSize     opts.MemBytes
	stopSignal  string
	stopTimeout int
	restart     string
	privileged  bool
	capAdd      []string
	capDrop     []string
	securityOpt []string
	resources   resourceOptions
	// names between containers
	domainname string
	links      []string
	aliases    []string
	dns        []string
	dnsSearch  []string
	dnsOptions []string
	extraHosts []string
	process    processOptions
}

func addContainerFlags(flags *pflag.FlagSet, o *containerOptions) {
	flags.SetInterspersed(false)
	// -h is --hostname here, so --help gets no shorthand (as in docker).
	flags.Bool("help", false, "Print usage")
	flags.BoolVarP(&o.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	flags.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	flags.BoolVar(&o.autoRemove, "rm", false, "Automatically remove the container and its associated anonymous volumes when it exits")
	flags.StringVar(&o.name, "name", "", "Assign a name to the container")
	flags.StringArrayVarP(&o.env, "env", "e", nil, "Set environment variables")
	flags.StringArrayVar(&o.envFiles, "env-file", nil, "Read in a file of environment variables")
	flags.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	flags.StringVarP(&o.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	flags.StringVar(&o.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	flags.BoolVar(&o.readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	flags.Var(&o.tmpfs, "tmpfs", "Mount a tmpfs directory (PATH[:OPTIONS])")
	flags.StringArrayVarP(&o.volumes, "volume", "v", nil, "Bind mount a volume")
	flags.Var(&o.mounts, "mount", "Attach a filesystem mount to the container")
	flags.StringVar(&o.network, "network", "", "Connect a container to a network")
	flags.StringVarP(&o.hostname, "hostname", "h", "", "Container host name")
	flags.StringArrayVarP(&o.labels, "label", "l", nil, "Set meta data on a container")
	flags.StringArrayVar(&o.labelFiles, "label-file", nil, "Read in a line delimited file of labels")
	flags.StringVar(&o.runtime, "runtime", "", "Runtime to use for this container")
	flags.Var(&o.shmSize, "shm-size", "Size of /dev/shm")
	flags.StringVar(&o.stopSignal, "stop-signal", "", "Signal to stop the container")
	flags.IntVar(&o.stopTimeout, "stop-timeout", 0, "Timeout (in seconds) to stop a container")
	flags.StringVar(&o.restart, "restart", "", "Restart policy to apply when a container exits")
	flags.BoolVar(&o.privileged, "privileged", false, "Give extended privileges to this container")
	flags.StringArrayVar(&o.capAdd, "cap-add", nil, "Add Linux capabilities")
	flags.StringArrayVar(&o.capDrop, "cap-drop", nil, "Drop Linux capabilities")
	flags.StringArrayVar(&o.securityOpt, "security-opt", nil, "Security Options")
	addResourceFlags(flags, &o.resources)
	flags.StringVar(&o.domainname, "domainname", "", "Container NIS domain name")
	flags.StringArrayVar(&o.links, "link", nil, "Add link to another container")
	flags.StringArrayVar(&o.aliases, "network-alias", nil, "Add network-scoped alias for the container")
	flags.StringArrayVar(&o.dns, "dns", nil, "Set custom DNS servers")
	flags.StringArrayVar(&o.dnsSearch, "dns-search", nil, "Set custom DNS search domains")
	flags.StringArrayVar(&o.dnsOptions, "dns-option", nil, "Set DNS options")
	flags.StringArrayVar(&o.dnsOptions, "dns-opt", nil, "Set DNS options")
	_ = flags.MarkHidden("dns-opt")
	flags.StringArrayVar(&o.extraHosts, "add-host", nil, "Add a custom host-to-IP mapping (host:ip)")
	addProcessFlags(flags, &o.process)
}

// containerConfig is what a create request carries.
type containerConfig struct {
	Config     *containertypes.Config
	HostConfig *containertypes.HostConfig
	Networking *networktypes.NetworkingConfig
	Name       string
}

// parse turns the flags and the positional arguments (IMAGE [COMMAND] [ARG...])
// into a create request. flags tells which flags were given explicitly.
func (o *containerOptions) parse(flags *pflag.FlagSet, args []string) (*containerConfig, error) {
	env, err := o.environment()
	if err != nil {
		return nil, err
	}
	labels, err := o.labelMap()
	if err != nil {
		return nil, err
	}
	restart, err := opts.ParseRestartPolicy(o.restart)
	if err != nil {
		return nil, err
	}
	sec, err := opts.ParseSecurityOpts(o.securityOpt, os.ReadFile)
	if err != nil {
		return nil, err
	}
	res, err := o.resources.resources(flags)
	if err != nil {
		return nil, err
	}
	dns, err := opts.ParseDNS(o.dns)
	if err != nil {
		return nil, err
	}
	extraHosts, err := opts.ParseExtraHosts(o.extraHosts)
	if err != nil {
		return nil, err
	}

	cfg := &containertypes.Config{
		Image:        args[0],
		Hostname:     o.hostname,
		Domainname:   o.domainname,
		User:         o.user,
		Tty:          o.tty,
		OpenStdin:    o.interactive,
		StdinOnce:    o.interactive,
		AttachStdin:  o.interactive,
		AttachStdout: true,
		AttachStderr: true,
		Env:          env,
		WorkingDir:   o.workdir,
		Labels:       labels,
		StopSignal:   o.stopSignal,
	}
	if len(args) > 1 {
		cfg.Cmd = args[1:]
	}
	if o.entrypoint != "" {
		cfg.Entrypoint = []string{o.entrypoint}
	} else if flags.Changed("entrypoint") {
		// An explicit empty entrypoint resets the image's.
		cfg.Entrypoint = []string{""}
	}
	if flags.Changed("stop-timeout") {
		t := o.stopTimeout
		cfg.StopTimeout = &t
	}

	hc := &containertypes.HostConfig{
		AutoRemove:     o.autoRemove,
		NetworkMode:    containertypes.NetworkMode(o.network),
		ReadonlyRootfs: o.readOnly,
		Tmpfs:          o.tmpfs.Value(),
		Mounts:         o.mounts.Value(),
		ShmSize:        int64(o.shmSize),
		Runtime:        o.runtime,
		RestartPolicy:  restart,
		Privileged:     o.privileged,
		CapAdd:         o.capAdd,
		CapDrop:        o.capDrop,
		SecurityOpt:    sec.SecurityOpt,
		MaskedPaths:    sec.MaskedPaths,
		ReadonlyPaths:  sec.ReadonlyPaths,
		Resources:      res,
		OomScoreAdj:    o.resources.oomScoreAdj,
		Links:          o.links,
		DNS:            dns,
		DNSSearch:      o.dnsSearch,
		DNSOptions:     o.dnsOptions,
		ExtraHosts:     extraHosts,
	}
	// As Docker's CLI: aliases (and, on a user network, links) go to the
	// endpoint of the container's network.
	var nc *networktypes.NetworkingConfig
	key := o.network
	if key == "" {
		key = "default"
	}
	userNet := containertypes.NetworkMode(key).IsUserDefined()
	if len(o.aliases) > 0 || (userNet && len(o.links) > 0) {
		ep := &networktypes.EndpointSettings{Aliases: o.aliases}
		if userNet {
			ep.Links = o.links
		}
		nc = &networktypes.NetworkingConfig{EndpointsConfig: map[string]*networktypes.EndpointSettings{key: ep}}
	}
	// As Docker: "SRC:DST[:MODE]" is a bind or named volume and goes to Binds
	// verbatim; a lone path is an anonymous volume.
	for _, v := range o.volumes {
		if strings.Contains(v, ":") {
			hc.Binds = append(hc.Binds, v)
			continue
		}
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		cfg.Volumes[v] = struct{}{}
	}
	if err := o.process.apply(flags, cfg, hc); err != nil {
		return nil, err
	}
	return &containerConfig{Config: cfg, HostConfig: hc, Networking: nc, Name: o.name}, nil
}

// environment is the --env-file entries followed by the -e entries.
func (o *containerOptions) environment() ([]string, error) {
	var env []string
	for _, f := range o.envFiles {
		lines, err := opts.ParseEnvFile(f, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		env = append(env, lines...)
	}
	for _, e := range o.env {
		v, err := opts.ExpandEnv(e, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		env = append(env, v)
	}
	return env, nil
}

// labelMap is the --label-file entries overridden by the -l entries.
func (o *containerOptions) labelMap() (map[string]string, error) {
	var all []string
	for _, f := range o.labelFiles {
		lines, err := opts.ParseLabelFile(f)
		if err != nil {
			return nil, err
		}
		all = append(all, lines...)
	}
	all = append(all, o.labels...)
	return opts.ParseLabels(all)
}
