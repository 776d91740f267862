// Package kube turns Berth containers into Kubernetes objects (`berth kube
// generate`) and Kubernetes manifests into Berth containers (`berth kube
// play`). It is pure: it reads inspect responses and manifests and returns
// typed objects and plans; the CLI does the API calls.
//
// The objects are built from the official k8s.io/api types and printed with
// sigs.k8s.io/yaml, never from string templates. Whatever a container has
// that a Pod cannot express is returned as a warning, never dropped
// silently.
package kube

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	volumetypes "github.com/moby/moby/api/types/volume"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/berth-project/berth/api/types/berth"
	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// Kinds of top-level object Generate can make.
const (
	KindPod        = "pod"
	KindDeployment = "deployment"
)

// CopyUpPrefix starts the name of every init container Generate writes to
// copy an image's directory into an emptyDir; play recognizes it and uses
// Berth's own copy-up instead.
const CopyUpPrefix = "berth-copyup-"

// copyUpStaging is where a copy-up init container mounts the emptyDir it
// fills: the image's directory stays visible at its own path.
const copyUpStaging = "/berth-copyup"

// AppLabel is the label that ties a Pod (or a Deployment's template) to its
// Service.
const AppLabel = "app"

// Options choose what Generate makes.
type Options struct {
	// Kind is KindPod (the default) or KindDeployment.
	Kind string
	// Service adds a Service for the containers' ports.
	Service bool
}

// Result is what Generate made.
type Result struct {
	// Objects are *corev1.Pod or *appsv1.Deployment, then
	// *corev1.PersistentVolumeClaim and *corev1.Service, in output order.
	Objects []any
	// Comments go at the top of the YAML, one line each (hostPath
	// volumes).
	Comments []string
	// Warnings name what the containers have and the objects cannot say.
	Warnings []string
}

// Generate makes the objects for one or more containers: several
// containers become one Pod. volumes are the volumes the containers mount,
// by name, as volume inspect shows them: a local tmpfs volume (driver
// options type=tmpfs) becomes a memory emptyDir shared by the containers
// that mount it; any other volume, or one missing from volumes, a
// PersistentVolumeClaim.
func Generate(containers []berth.InspectResponse, volumes map[string]volumetypes.Volume, o Options) (*Result, error) {
	if len(containers) == 0 {
		return nil, fmt.Errorf("no container given")
	}
	switch o.Kind {
	case "":
		o.Kind = KindPod
	case KindPod, KindDeployment:
	default:
		return nil, fmt.Errorf("invalid --type %q: want pod or deployment", o.Kind)
	}
	g := &generator{volumeInfo: volumes, volumes: map[string]string{}, volumeNames: map[string]bool{}, claims: map[string]bool{}}
	podName := dnsName(strings.TrimPrefix(containers[0].Name, "/"))
	if podName == "" {
		podName = "berth"
	}
	spec := corev1.PodSpec{}
	names := map[string]bool{}
	var restart []string
	for i := range containers {
		c := &containers[i]
		if c.Config == nil || c.HostConfig == nil {
			return nil, fmt.Errorf("container %s: inspect response without Config or HostConfig", c.ID)
		}
		name := dnsName(strings.TrimPrefix(c.Name, "/"))
		if name == "" || names[name] {
			name = fmt.Sprintf("container-%d", i)
		}
		names[name] = true
		ctr, inits := g.container(c, name)
		spec.Containers = append(spec.Containers, ctr)
		spec.InitContainers = append(spec.InitContainers, inits...)
		restart = append(restart, string(c.HostConfig.RestartPolicy.Name))
	}
	spec.Volumes = g.podVolumes
	if o.Kind == KindPod {
		spec.RestartPolicy = restartPolicy(restart, g)
	} else if p := restartPolicy(restart, g); p != corev1.RestartPolicyAlways && p != "" {
		g.warn("restart policy %q: a Deployment's Pods always restart", p)
	}
	labels := map[string]string{AppLabel: podName}
	meta := metav1.ObjectMeta{Name: podName, Labels: labels}
	r := &Result{}
	if o.Kind == KindPod {
		r.Objects = append(r.Objects, &corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: meta,
			Spec:       spec,
		})
	} else {
		one := int32(1)
		r.Objects = append(r.Objects, &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{
				Replicas: &one,
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       spec,
				},
			},
		})
	}
	for _, claim := range g.claimOrder {
		r.Objects = append(r.Objects, &corev1.PersistentVolumeClaim{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
			ObjectMeta: metav1.ObjectMeta{Name: claim},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				},
			},
		})
		g.warn("volume %s: PersistentVolumeClaim %s requests 1Gi (a Berth volume has no size); copy the data over yourself", claim, claim)
	}
	if o.Service {
		if len(g.ports) == 0 {
			g.warn("--service: the containers expose no ports; no Service made")
		} else {
			r.Objects = append(r.Objects, &corev1.Service{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
				ObjectMeta: metav1.ObjectMeta{Name: podName, Labels: labels},
				Spec:       corev1.ServiceSpec{Selector: labels, Ports: g.ports},
			})
		}
	}
	r.Comments = g.comments
	r.Warnings = g.warnings
	return r, nil
}

// YAML prints the result: the comments, then each object as a YAML
// document.
func (r *Result) YAML() ([]byte, error) {
	var b strings.Builder
	for _, c := range r.Comments {
		b.WriteString("# " + c + "\n")
	}
	for i, obj := range r.Objects {
		if i > 0 {
			b.WriteString("---\n")
		}
		out, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("printing object %d: %w", i, err)
		}
		b.Write(out)
	}
	return []byte(b.String()), nil
}

type generator struct {
	volumeInfo  map[string]volumetypes.Volume // Berth volumes by name
	podVolumes  []corev1.Volume
	volumes     map[string]string // what a pod volume is (see addVolume) → its name
	volumeNames map[string]bool   // the names in podVolumes
	claims      map[string]bool
	claimOrder  []string
	ports       []corev1.ServicePort
	comments    []string
	warnings    []string
}

func (g *generator) warn(format string, args ...any) {
	g.warnings = append(g.warnings, fmt.Sprintf(format, args...))
}

// addVolume adds the pod volume v for what (a key naming its source: a
// claim, a host path, a tmpfs, a Berth volume) once, and returns its name
// and whether it was added now. The name is v.Name, or v.Name with a
// number when another source has that name already: two sources never
// share a pod volume.
func (g *generator) addVolume(what string, v corev1.Volume) (string, bool) {
	if name, ok := g.volumes[what]; ok {
		return name, false
	}
	base := v.Name
	for i := 2; g.volumeNames[v.Name]; i++ {
		suffix := "-" + strconv.Itoa(i)
		v.Name = strings.TrimRight(base[:min(len(base), 63-len(suffix))], "-") + suffix
	}
	g.volumes[what] = v.Name
	g.volumeNames[v.Name] = true
	g.podVolumes = append(g.podVolumes, v)
	return v.Name, true
}

func (g *generator) container(c *berth.InspectResponse, name string) (corev1.Container, []corev1.Container) {
	cfg, hc := c.Config, c.HostConfig
	ctr := corev1.Container{
		Name:       name,
		Image:      cfg.Image,
		Command:    slices.Clone(cfg.Entrypoint),
		Args:       slices.Clone(cfg.Cmd),
		WorkingDir: cfg.WorkingDir,
	}
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		ctr.Env = append(ctr.Env, corev1.EnvVar{Name: k, Value: v})
	}
	ctr.Ports = g.containerPorts(c, name)
	ctr.Resources = g.resources(name, hc)
	sc := g.securityContext(name, cfg, hc)
	ctr.SecurityContext = sc
	ctr.TTY = cfg.Tty
	ctr.Stdin = cfg.OpenStdin

	var inits []corev1.Container
	for _, t := range tmpfsOf(c, g, name) {
		vol := dnsName(name + "-tmpfs" + strings.ReplaceAll(t.dest, "/", "-"))
		ed := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}
		if t.size > 0 {
			q := resource.NewQuantity(t.size, resource.BinarySI)
			ed.SizeLimit = q
		}
		vol, _ = g.addVolume("tmpfs "+name+" "+t.dest, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{EmptyDir: ed}})
		ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: t.dest})
		if !t.copyUp {
			continue
		}
		staging := copyUpStaging + t.dest
		root := int64(0)
		f := false
		inits = append(inits, corev1.Container{
			Name:    dnsName(CopyUpPrefix + name + strings.ReplaceAll(t.dest, "/", "-")),
			Image:   cfg.Image,
			Command: CopyUpCommand(t.dest),
			// Root, so that cp keeps the owners; the rest of the
			// container's restrictions stay.
			SecurityContext: &corev1.SecurityContext{
				RunAsUser:                &root,
				RunAsGroup:               &root,
				ReadOnlyRootFilesystem:   boolPtr(true),
				AllowPrivilegeEscalation: &f,
				SeccompProfile:           sc.SeccompProfile,
			},
			VolumeMounts: []corev1.VolumeMount{{Name: vol, MountPath: staging}},
		})
	}
	for _, m := range c.Mounts {
		switch m.Type {
		case mount.TypeVolume:
			if v, ok := g.volumeInfo[m.Name]; ok && IsTmpfsVolume(v) {
				vol := g.tmpfsVolume(v)
				ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: m.Destination, ReadOnly: !m.RW})
				continue
			}
			claim := dnsName(m.Name)
			vol, _ := g.addVolume("claim "+claim, corev1.Volume{Name: "volume-" + claim, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
			}})
			if !g.claims[claim] {
				g.claims[claim] = true
				g.claimOrder = append(g.claimOrder, claim)
			}
			ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: m.Destination, ReadOnly: !m.RW})
		case mount.TypeBind:
			volName, added := g.addVolume("host "+m.Source, corev1.Volume{Name: dnsName("host" + strings.ReplaceAll(m.Source, "/", "-")), VolumeSource: corev1.VolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: m.Source},
			}})
			if added {
				g.comments = append(g.comments, fmt.Sprintf("volume %s is the bind mount %s of the Berth host: a hostPath, which reads the node's own %s", volName, m.Source, m.Source))
			}
			ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: volName, MountPath: m.Destination, ReadOnly: !m.RW})
		case mount.TypeTmpfs:
			// Listed from HostConfig and the Berth key above.
		default:
			g.warn("container %s: mount %s of type %s has no Kubernetes equivalent", name, m.Destination, m.Type)
		}
	}
	g.unsupported(name, c)
	return ctr, inits
}

// CopyUpCommand is the command of a copy-up init container for the tmpfs
// at dest: copy the image's directory, with owners, modes, times and
// links, into the emptyDir mounted at the staging path.
func CopyUpCommand(dest string) []string {
	return []string{"cp", "-a", path.Clean(dest) + "/.", copyUpStaging + path.Clean(dest) + "/"}
}

// CopyUpDest returns the directory a copy-up init container fills, or
// false when the container is not one Generate writes.
func CopyUpDest(c corev1.Container) (string, bool) {
	if !strings.HasPrefix(c.Name, CopyUpPrefix) || len(c.Command) != 4 || len(c.Args) != 0 {
		return "", false
	}
	dest := strings.TrimSuffix(c.Command[2], "/.")
	if !path.IsAbs(dest) || !slices.Equal(c.Command, CopyUpCommand(dest)) {
		return "", false
	}
	return path.Clean(dest), true
}

type tmpfsMount struct {
	dest   string
	size   int64
	copyUp bool
}

// tmpfsOf lists a container's tmpfs mounts: from the Berth key while it
// runs (the resolved sizes and copy-up), from its HostConfig otherwise.
func tmpfsOf(c *berth.InspectResponse, g *generator, name string) []tmpfsMount {
	var out []tmpfsMount
	if c.Berth != nil && c.Berth.Tmpfs != nil {
		for _, t := range c.Berth.Tmpfs {
			out = append(out, tmpfsMount{dest: t.Destination, size: t.SizeBytes, copyUp: t.CopyUp})
			g.tmpfsOptions(name, t.Destination, t.Options)
		}
		return out
	}
	hc := c.HostConfig
	all := map[string]string{}
	// The tmpfs mounts the production mode added (labels, daemon
	// defaults) are not in the HostConfig.
	if c.Berth != nil && c.Berth.Production != nil {
		for _, t := range c.Berth.Production.Tmpfs {
			all[t.Destination] = t.Options
		}
	}
	for d, o := range hc.Tmpfs {
		all[d] = o
	}
	dests := make([]string, 0, len(all))
	for d := range all {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	for _, d := range dests {
		t := tmpfsMount{dest: path.Clean(d), copyUp: true}
		for _, word := range strings.Split(all[d], ",") {
			k, v, _ := strings.Cut(word, "=")
			switch k {
			case "size":
				if n, pct, err := tmpfsopt.ParseSize(v); err == nil && pct == 0 {
					t.size = n
				} else {
					g.warn("container %s: tmpfs %s size %q is not a byte count; no sizeLimit", name, d, v)
				}
			case "notmpcopyup":
				t.copyUp = false
			case "tmpcopyup":
				t.copyUp = true
			}
		}
		// --tmpfs mounts are noexec unless "exec" is given (Docker's
		// defaults, merged by the daemon).
		g.tmpfsOptions(name, d, "noexec,"+all[d])
		out = append(out, t)
	}
	for _, m := range hc.Mounts {
		if m.Type != mount.TypeTmpfs {
			continue
		}
		t := tmpfsMount{dest: path.Clean(m.Target), copyUp: true}
		if m.TmpfsOptions != nil {
			t.size = m.TmpfsOptions.SizeBytes
			for _, o := range m.TmpfsOptions.Options {
				if len(o) == 1 && o[0] == "notmpcopyup" {
					t.copyUp = false
				}
			}
		}
		out = append(out, t)
	}
	return out
}

// tmpfsOptions warns about tmpfs mount options an emptyDir cannot carry.
func (g *generator) tmpfsOptions(name, dest, opts string) {
	var lost []string
	noexec := false
	for _, word := range strings.Split(opts, ",") {
		k, _, _ := strings.Cut(word, "=")
		switch k {
		case "", "size", "tmpcopyup", "notmpcopyup", "rw", "rprivate", "private", "nodev", "nosuid":
		case "exec":
			noexec = false
		case "noexec":
			noexec = true
		default:
			lost = append(lost, word)
		}
	}
	if noexec {
		lost = append([]string{"noexec (an emptyDir is mounted exec)"}, lost...)
	}
	if len(lost) > 0 {
		g.warn("container %s: tmpfs %s options an emptyDir cannot express: %s", name, dest, strings.Join(lost, ", "))
	}
}

func (g *generator) containerPorts(c *berth.InspectResponse, name string) []corev1.ContainerPort {
	seen := map[string]bool{}
	var keys []string
	for p := range c.Config.ExposedPorts {
		keys = append(keys, p.String())
	}
	for p := range c.HostConfig.PortBindings {
		keys = append(keys, p.String())
	}
	sort.Strings(keys)
	var out []corev1.ContainerPort
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		portStr, proto, _ := strings.Cut(k, "/")
		n, err := strconv.ParseInt(portStr, 10, 32)
		if err != nil {
			g.warn("container %s: port %s is not a number", name, k)
			continue
		}
		p := corev1.Protocol(strings.ToUpper(proto))
		if p == "" {
			p = corev1.ProtocolTCP
		}
		out = append(out, corev1.ContainerPort{ContainerPort: int32(n), Protocol: p})
		sp := corev1.ServicePort{
			Name:       dnsName(fmt.Sprintf("%s-%d-%s", name, n, strings.ToLower(string(p)))),
			Port:       int32(n),
			TargetPort: intstr.FromInt32(int32(n)),
			Protocol:   p,
		}
		for pk, bindings := range c.HostConfig.PortBindings {
			if pk.String() != k {
				continue
			}
			for _, b := range bindings {
				if hp, err := strconv.ParseInt(b.HostPort, 10, 32); err == nil && hp > 0 {
					sp.Port = int32(hp)
					break
				}
			}
		}
		g.ports = append(g.ports, sp)
	}
	return out
}

func (g *generator) resources(name string, hc *containertypes.HostConfig) corev1.ResourceRequirements {
	limits := corev1.ResourceList{}
	if hc.Memory > 0 {
		limits[corev1.ResourceMemory] = *resource.NewQuantity(hc.Memory, resource.BinarySI)
	}
	switch {
	case hc.NanoCPUs > 0:
		limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(hc.NanoCPUs/1_000_000, resource.DecimalSI)
	case hc.CPUQuota > 0:
		period := hc.CPUPeriod
		if period == 0 {
			period = 100000
		}
		limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(hc.CPUQuota*1000/period, resource.DecimalSI)
	}
	if hc.MemorySwap > 0 && hc.MemorySwap != hc.Memory && hc.MemorySwap != 2*hc.Memory {
		g.warn("container %s: --memory-swap has no Kubernetes equivalent", name)
	}
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		g.warn("container %s: --pids-limit is a node setting in Kubernetes (kubelet podPidsLimit)", name)
	}
	if hc.CPUShares > 0 {
		g.warn("container %s: --cpu-shares: set resources.requests.cpu yourself", name)
	}
	if hc.CpusetCpus != "" || hc.CpusetMems != "" {
		g.warn("container %s: --cpuset-cpus/--cpuset-mems have no Pod equivalent", name)
	}
	if len(limits) == 0 {
		return corev1.ResourceRequirements{}
	}
	return corev1.ResourceRequirements{Limits: limits}
}

func (g *generator) securityContext(name string, cfg *containertypes.Config, hc *containertypes.HostConfig) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{}
	if hc.ReadonlyRootfs {
		sc.ReadOnlyRootFilesystem = boolPtr(true)
	}
	if hc.Privileged {
		sc.Privileged = boolPtr(true)
	}
	if len(hc.CapAdd) > 0 || len(hc.CapDrop) > 0 {
		sc.Capabilities = &corev1.Capabilities{}
		for _, c := range hc.CapAdd {
			sc.Capabilities.Add = append(sc.Capabilities.Add, corev1.Capability(capName(c)))
		}
		for _, c := range hc.CapDrop {
			sc.Capabilities.Drop = append(sc.Capabilities.Drop, corev1.Capability(capName(c)))
		}
	}
	if cfg.User != "" {
		u, grp, hasGroup := strings.Cut(cfg.User, ":")
		if uid, err := strconv.ParseInt(u, 10, 64); err == nil {
			sc.RunAsUser = &uid
			if uid != 0 {
				sc.RunAsNonRoot = boolPtr(true)
			}
		} else {
			g.warn("container %s: user %q is a name; Kubernetes needs a number: set runAsUser yourself", name, u)
		}
		if hasGroup {
			if gid, err := strconv.ParseInt(grp, 10, 64); err == nil {
				sc.RunAsGroup = &gid
			} else {
				g.warn("container %s: group %q is a name; Kubernetes needs a number: set runAsGroup yourself", name, grp)
			}
		}
	}
	if len(hc.GroupAdd) > 0 {
		g.warn("container %s: --group-add: set the Pod's securityContext.supplementalGroups yourself", name)
	}
	seccomp := corev1.SeccompProfileTypeRuntimeDefault
	for _, o := range hc.SecurityOpt {
		k, v, hasValue := strings.Cut(o, "=")
		if !hasValue {
			k, v, hasValue = strings.Cut(o, ":")
		}
		switch {
		case k == "no-new-privileges" && (!hasValue || v == "true"):
			sc.AllowPrivilegeEscalation = boolPtr(false)
		case k == "no-new-privileges":
		case k == "seccomp" && v == "unconfined":
			seccomp = corev1.SeccompProfileTypeUnconfined
		case k == "seccomp":
			g.warn("container %s: custom seccomp profile: put it on the node and use seccompProfile Localhost", name)
		default:
			g.warn("container %s: --security-opt %s has no equivalent here", name, o)
		}
	}
	if hc.Privileged {
		seccomp = corev1.SeccompProfileTypeUnconfined
	}
	sc.SeccompProfile = &corev1.SeccompProfile{Type: seccomp}
	return sc
}

// unsupported warns about container settings a Pod cannot carry.
func (g *generator) unsupported(name string, c *berth.InspectResponse) {
	hc := c.HostConfig
	nm := string(hc.NetworkMode)
	if nm != "" && nm != "default" && nm != "bridge" && !strings.HasPrefix(nm, "container:") {
		g.warn("container %s: network %s: a Pod has its own network; use Services and NetworkPolicies", name, nm)
	}
	if len(hc.Devices) > 0 {
		g.warn("container %s: --device has no Pod equivalent (device plugins)", name)
	}
	if len(hc.ExtraHosts) > 0 {
		g.warn("container %s: --add-host: use the Pod's hostAliases", name)
	}
	if len(hc.DNS) > 0 || len(hc.DNSSearch) > 0 || len(hc.DNSOptions) > 0 {
		g.warn("container %s: --dns settings: use the Pod's dnsConfig", name)
	}
	if c.Config.Healthcheck != nil && len(c.Config.Healthcheck.Test) > 0 && c.Config.Healthcheck.Test[0] != "NONE" {
		g.warn("container %s: the health check is not converted; write a livenessProbe or readinessProbe", name)
	}
	if len(hc.Sysctls) > 0 {
		g.warn("container %s: --sysctl: use the Pod's securityContext.sysctls", name)
	}
	if hc.ShmSize > 0 && hc.ShmSize != 64<<20 {
		g.warn("container %s: --shm-size: mount an emptyDir (medium Memory) at /dev/shm", name)
	}
}

func restartPolicy(policies []string, g *generator) corev1.RestartPolicy {
	var out corev1.RestartPolicy
	for _, p := range policies {
		var rp corev1.RestartPolicy
		switch p {
		case "", "no":
			rp = corev1.RestartPolicyNever
		case "on-failure":
			rp = corev1.RestartPolicyOnFailure
		default:
			rp = corev1.RestartPolicyAlways
		}
		if out != "" && out != rp {
			g.warn("the containers' restart policies differ; the Pod uses %s", out)
			continue
		}
		out = rp
	}
	return out
}

func capName(c string) string {
	c = strings.ToUpper(c)
	return strings.TrimPrefix(c, "CAP_")
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsName makes s a DNS-1123 label: lower case, [a-z0-9-], at most 63
// characters, starting and ending alphanumeric.
func dnsName(s string) string {
	s = notDNS.ReplaceAllString(strings.ToLower(s), "-")
	s = strings.Trim(s, "-")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

func boolPtr(b bool) *bool { return &b }
