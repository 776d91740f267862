package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/health"
	"github.com/berth-project/berth/daemon/images"
	"github.com/berth-project/berth/daemon/mountspec"
	"github.com/berth-project/berth/daemon/prodmode"
	"github.com/berth-project/berth/daemon/unsupported"
	"github.com/berth-project/berth/pkg/runtrace"
)

// ContainerCreate validates the request completely, then persists the new
// container. Any error leaves nothing behind.
func (d *Daemon) ContainerCreate(ctx context.Context, name string, cfg *containertypes.Config, hc *containertypes.HostConfig, nc *network.NetworkingConfig) (containertypes.CreateResponse, error) {
	resp := containertypes.CreateResponse{Warnings: []string{}}
	if cfg == nil {
		return resp, fmt.Errorf("config cannot be empty in order to create a container: %w", errInvalid)
	}
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	if cfg.Image == "" {
		return resp, fmt.Errorf("no image specified: %w", errInvalid)
	}
	if err := unsupported.Fields(cfg, hc, nc); err != nil {
		return resp, err
	}
	if err := verifyConfig(cfg); err != nil {
		return resp, err
	}
	if err := health.Validate(cfg.Healthcheck); err != nil {
		return resp, err
	}
	img, err := d.images.Get(cfg.Image)
	if err != nil {
		return resp, err
	}
	runtrace.Mark("create image-found")
	c := &container.Container{
		ID:       newID(),
		Created:  time.Now().UTC(),
		ImageID:  img.ID,
		ImageRef: cfg.Image,
		Layers:   d.images.LayerDirs(img),
		State:    container.State{Status: containertypes.StateCreated},
	}
	c.Config = mergeImageConfig(cfg, img)
	prod, err := prodmode.Decide(img.Config.Config.Labels, cfg.Labels, hc.ReadonlyRootfs, d.productionDefaults())
	if err != nil {
		return resp, err
	}
	hc.ReadonlyRootfs, c.ReadOnlyFrom = prod.ReadOnly, prod.ReadOnlyFrom
	c.HostConfig = hc
	if c.Config.Hostname == "" {
		if hc.NetworkMode == "host" {
			c.Config.Hostname, _ = os.Hostname()
		} else {
			c.Config.Hostname = c.ID[:12]
		}
	}
	warnings, err := d.validateHostConfig(hc)
	if err != nil {
		return resp, err
	}
	resp.Warnings = append(resp.Warnings, warnings...)
	if warnings, err = d.validateLimits(hc); err != nil {
		return resp, err
	}
	resp.Warnings = append(resp.Warnings, warnings...)
	links, err := d.checkNames(hc, nc)
	if err != nil {
		return resp, err
	}
	if err := d.checkEndpoints(hc, nc); err != nil {
		return resp, err
	}
	// As Docker: a published port is an exposed port.
	for p := range hc.PortBindings {
		if c.Config.ExposedPorts == nil {
			c.Config.ExposedPorts = network.PortSet{}
		}
		c.Config.ExposedPorts[p] = struct{}{}
	}
	if err := validateSecurity(hc, hostSecurity()); err != nil {
		return resp, err
	}
	if len(c.Config.Entrypoint) == 0 && len(c.Config.Cmd) == 0 {
		return resp, fmt.Errorf("no command specified: %w", errInvalid)
	}
	c.Path, c.Args = command(c.Config)
	if wd := c.Config.WorkingDir; wd != "" && !filepath.IsAbs(wd) {
		return resp, fmt.Errorf("the working directory '%s' is invalid, it needs to be an absolute path: %w", wd, errInvalid)
	}
	fsys := imageFS{layers: c.Layers}
	eu, err := fsys.execUser(userSpec(c.Config.User))
	if err != nil {
		return resp, err
	}
	c.User = container.ExecUser{UID: eu.Uid, GID: eu.Gid, AdditionalGids: eu.Sgids, Home: eu.Home}
	if err := d.resolveRunOptions(c, hc, fsys); err != nil {
		return resp, err
	}
	if c.Runtime = hc.Runtime; c.Runtime == "" {
		// inspect shows the runtime chosen, as Docker does
		c.Runtime = d.cfg.Runtime
		hc.Runtime = c.Runtime
	}
	if _, err := d.runtimePath(c.Runtime); err != nil {
		return resp, err
	}
	if c.Mounts, err = mountspec.Resolve(mountspec.Request{Config: c.Config, Requested: cfg, HostConfig: hc, DefaultTmpfs: defaultTmpfs(prod)}, fsys, d.tmpfsPolicy); err != nil {
		return resp, err
	}
	if err := checkBindSources(c.Mounts); err != nil {
		return resp, err
	}
	if err := checkPropagationSources(c.Mounts, d.volumes.Path, true); err != nil {
		return resp, err
	}
	runtrace.Mark("create resolved")

	if err := d.reserveName(c, name); err != nil {
		return resp, err
	}
	hc.Links = linkStrings(c.Name, links)
	// Volumes only once the name is ours: a conflict creates nothing.
	if err := d.createMountVolumes(c); err != nil {
		d.containers.Release(c.Name)
		d.removeAnonymousVolumes(c)
		return resp, err
	}
	c.Root = filepath.Join(d.containersDir(), c.ID)
	runtrace.Mark("create named")
	if err := d.prepareContainerDir(c, fsys); err != nil {
		d.mu.Lock()
		delete(d.live, c.ID) // made by writeNetworkFiles
		d.mu.Unlock()
		d.containers.Release(c.Name)
		os.RemoveAll(c.Root)
		d.removeAnonymousVolumes(c)
		return resp, err
	}
	runtrace.Mark("create persisted")
	d.containers.Add(c)
	d.attachNetworks(c, nc)
	d.containerEvent(c, eventtypes.ActionCreate, nil)
	resp.ID = c.ID
	d.log.Info("container created", "container", c.ID, "name", c.Name, "image", cfg.Image)
	return resp, nil
}

// prepareContainerDir writes the container's directory: its writable
// layer, network files and persisted model, and finds (or builds) its
// shared mount-point layer.
func (d *Daemon) prepareContainerDir(c *container.Container, fsys imageFS) error {
	if err := os.Mkdir(c.Root, 0o710); err != nil {
		return err
	}
	entries := mountpointEntries(c, func(source string) bool {
		st, err := os.Stat(source)
		return err == nil && !st.IsDir()
	})
	layer, err := d.mountpointLayer(c.ImageID, fsys, entries)
	if err != nil {
		return err
	}
	c.MountpointDir = layer
	if !c.ReadonlyRootfs() {
		for _, dir := range []string{c.UpperDir(), c.WorkDir()} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
	}
	if _, err := d.writeNetworkFiles(c, false); err != nil {
		return err
	}
	runtrace.Mark("create files-written")
	return c.ToDisk()
}

// mergeImageConfig applies the image's defaults to the request, as Docker
// does: env merged by key, cmd/entrypoint/user/workdir/volumes/labels
// taken from the image where the request has none.
func mergeImageConfig(req *containertypes.Config, img *images.Image) *containertypes.Config {
	c := *req
	ic := img.Config.Config
	env := append([]string{}, ic.Env...)
	for _, kv := range req.Env {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, e := range env {
			if k, _, _ := strings.Cut(e, "="); k == key {
				env[i] = kv
				replaced = true
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	c.Env = env
	if len(c.Entrypoint) == 0 {
		if len(c.Cmd) == 0 {
			c.Cmd = ic.Cmd
		}
		c.Entrypoint = ic.Entrypoint
	}
	if c.User == "" {
		c.User = ic.User
	}
	if c.WorkingDir == "" {
		c.WorkingDir = ic.WorkingDir
	}
	if c.StopSignal == "" {
		c.StopSignal = ic.StopSignal
	}
	c.Healthcheck = health.Merge(req.Healthcheck, img.Healthcheck())
	vols := map[string]struct{}{}
	for v := range ic.Volumes {
		vols[v] = struct{}{}
	}
	for v := range req.Volumes {
		vols[v] = struct{}{}
	}
	if len(vols) > 0 {
		c.Volumes = vols
	}
	labels := map[string]string{}
	for k, v := range ic.Labels {
		labels[k] = v
	}
	for k, v := range req.Labels {
		labels[k] = v
	}
	c.Labels = labels
	ports := network.PortSet{}
	for p := range ic.ExposedPorts {
		if port, err := network.ParsePort(p); err == nil {
			ports[port] = struct{}{}
		}
	}
	for p := range req.ExposedPorts {
		ports[p] = struct{}{}
	}
	c.ExposedPorts = nil
	if len(ports) > 0 {
		c.ExposedPorts = ports
	}
	return &c
}

// command splits the process into Path and Args as inspect shows them.
func command(cfg *containertypes.Config) (string, []string) {
	argv := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
	if len(argv) == 0 {
		return "", nil
	}
	return argv[0], argv[1:]
}

func userSpec(u string) string {
	if u == "" {
		return "0"
	}
	return u
}

func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var (
	nameLeft  = []string{"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nimble", "proud", "quiet", "sharp", "tidy", "vivid", "witty", "zealous"}
	nameRight = []string{"anchor", "beacon", "buoy", "cabin", "compass", "dock", "harbor", "helm", "keel", "mast", "pier", "quay", "rudder", "sail", "stern", "tide", "wharf", "wave"}
)

// reserveName takes the requested name, or a generated one: a generated
// name another create reserved meanwhile is replaced by a new one.
func (d *Daemon) reserveName(c *container.Container, name string) error {
	for attempt := 0; ; attempt++ {
		n := name
		if n == "" {
			n = d.generateName()
		}
		c.Name = "/" + strings.TrimPrefix(n, "/")
		err := d.containers.Reserve(c.Name, c.ID)
		if err == nil || name != "" || attempt >= 10 {
			return err
		}
	}
}

// generateName picks a free adjective_noun name, as Docker does.
func (d *Daemon) generateName() string {
	for i := 0; ; i++ {
		var b [3]byte
		_, _ = rand.Read(b[:])
		name := nameLeft[int(b[0])%len(nameLeft)] + "_" + nameRight[int(b[1])%len(nameRight)]
		if i > 5 {
			name += fmt.Sprint(int(b[2]))
		}
		if _, err := d.containers.Get(name); err != nil {
			return name
		}
	}
}
