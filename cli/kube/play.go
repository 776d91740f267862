package kube

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// PodLabel marks every container and volume `berth kube play` creates
// with the name of its Pod; `berth kube down` removes what carries it.
const PodLabel = "io.berth.kube.pod"

// RoleLabel says what a created container is to its Pod: "infra", "init"
// or "app".
const RoleLabel = "io.berth.kube.role"

// Roles of the containers of a played Pod.
const (
	RoleInfra = "infra"
	RoleInit  = "init"
	RoleApp   = "app"
)

// Plan is what `berth kube play` does for one Pod: create the volumes,
// run the infra container (it holds the network namespace), the init
// containers to completion in order, then the app containers.
type Plan struct {
	Pod string
	// Volumes are named volumes to create, labelled with PodLabel.
	Volumes []Volume
	// Claims are named volumes for PersistentVolumeClaims: created when
	// missing, kept by down.
	Claims     []string
	Containers []Container
	Warnings   []string
}

// Volume is a named volume of a Plan: an emptyDir shared by several
// containers of the Pod.
type Volume struct {
	Name string
	// DriverOpts are the local driver's options: type=tmpfs for a memory
	// emptyDir, none for one on disk.
	DriverOpts map[string]string
}

// PodVolumesDir is where the infra container mounts the Pod's memory
// emptyDirs: it runs as long as the Pod, so the tmpfs volumes stay mounted
// (and keep their content) from the first init container to the last app
// container, as an emptyDir lives as long as its Pod.
const PodVolumesDir = "/berth-pod-volumes"

// Container is one container of a Plan.
type Container struct {
	Name       string
	Role       string
	Config     containertypes.Config
	HostConfig containertypes.HostConfig
}

// Manifest is the Pods of a YAML file, Deployments taken as their Pod
// template, with the warnings about the other objects.
type Manifest struct {
	Pods     []corev1.Pod
	Warnings []string
}

// Decode reads a multi-document YAML file strictly: unknown fields are an
// error. Pods and Deployments are kept; PersistentVolumeClaims are
// played as named volumes by the Pods that use them; anything else is
// reported.
func Decode(data []byte) (*Manifest, error) {
	m := &Manifest{}
	for i, doc := range splitDocuments(data) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		switch tm.Kind {
		case "":
			return nil, fmt.Errorf("document %d: no kind", i+1)
		case "Pod":
			var p corev1.Pod
			if err := yaml.UnmarshalStrict(doc, &p); err != nil {
				return nil, fmt.Errorf("document %d (Pod): %w", i+1, err)
			}
			m.Pods = append(m.Pods, p)
		case "Deployment":
			var d appsv1.Deployment
			if err := yaml.UnmarshalStrict(doc, &d); err != nil {
				return nil, fmt.Errorf("document %d (Deployment): %w", i+1, err)
			}
			if d.Spec.Replicas != nil && *d.Spec.Replicas != 1 {
				m.Warnings = append(m.Warnings, fmt.Sprintf("Deployment %s: played as one replica, not %d", d.Name, *d.Spec.Replicas))
			}
			p := corev1.Pod{ObjectMeta: d.Spec.Template.ObjectMeta, Spec: d.Spec.Template.Spec}
			p.Name = d.Name
			m.Pods = append(m.Pods, p)
		case "PersistentVolumeClaim":
			var c corev1.PersistentVolumeClaim
			if err := yaml.UnmarshalStrict(doc, &c); err != nil {
				return nil, fmt.Errorf("document %d (PersistentVolumeClaim): %w", i+1, err)
			}
		default:
			m.Warnings = append(m.Warnings, fmt.Sprintf("document %d: kind %s is not played", i+1, tm.Kind))
		}
	}
	for _, p := range m.Pods {
		if dnsName(p.Name) != p.Name || p.Name == "" {
			return nil, fmt.Errorf("pod name %q is not a DNS label", p.Name)
		}
	}
	return m, nil
}

func splitDocuments(data []byte) [][]byte {
	var out [][]byte
	for _, doc := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
		// "---" may carry a comment or spaces after it on its line.
		if i := bytes.IndexByte(doc, '\n'); i >= 0 && !bytes.HasPrefix(doc, []byte("\n")) {
			doc = doc[i:]
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		out = append(out, doc)
	}
	return out
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// PlanPod turns a Pod into the containers and volumes to create. The infra
// container runs infraImage (the first container's image when empty) with
// `sleep`, so that image needs one.
func PlanPod(p *corev1.Pod, infraImage string) (*Plan, error) {
	if len(p.Spec.Containers) == 0 {
		return nil, fmt.Errorf("pod %s has no containers", p.Name)
	}
	pl := &Plan{Pod: p.Name}
	warn := func(format string, args ...any) {
		pl.Warnings = append(pl.Warnings, fmt.Sprintf("pod %s: ", p.Name)+fmt.Sprintf(format, args...))
	}
	spec := &p.Spec
	vols := map[string]*corev1.Volume{}
	for i := range spec.Volumes {
		vols[spec.Volumes[i].Name] = &spec.Volumes[i]
	}
	// Which containers mount each volume, and which copy-up init
	// containers fill one.
	users := map[string]int{}
	copyUp := map[string]string{} // volume → the directory copied into it
	var inits []corev1.Container
	for _, c := range spec.InitContainers {
		if dest, ok := CopyUpDest(c); ok && len(c.VolumeMounts) == 1 && c.VolumeMounts[0].MountPath == copyUpStaging+dest {
			copyUp[c.VolumeMounts[0].Name] = dest
			continue
		}
		inits = append(inits, c)
		for _, vm := range c.VolumeMounts {
			users[vm.Name]++
		}
	}
	for _, c := range spec.Containers {
		for _, vm := range c.VolumeMounts {
			users[vm.Name]++
		}
	}
	// A memory emptyDir mounted by one container is a tmpfs of it, with
	// Berth's copy-up standing in for the init container that fills it.
	// Shared, it is a volume that all see the same files in: a tmpfs
	// volume (the local driver's type=tmpfs) for a memory one, held
	// mounted by the infra container; a directory on disk otherwise.
	tmpfsVol := map[string]bool{}
	var memVols []string
	for name, v := range vols {
		switch {
		case v.EmptyDir != nil && v.EmptyDir.Medium == corev1.StorageMediumMemory && users[name] <= 1:
			tmpfsVol[name] = true
		case v.EmptyDir != nil:
			if _, ok := copyUp[name]; ok {
				return nil, fmt.Errorf("pod %s: emptyDir %s is filled by a copy-up init container and shared: not supported", p.Name, name)
			}
			vol := Volume{Name: p.Name + "-" + name}
			if v.EmptyDir.Medium == corev1.StorageMediumMemory {
				// World-writable, as the kubelet makes an emptyDir.
				o := "mode=1777"
				if v.EmptyDir.SizeLimit != nil {
					o = "size=" + strconv.FormatInt(v.EmptyDir.SizeLimit.Value(), 10) + "," + o
				}
				vol.DriverOpts = map[string]string{"type": "tmpfs", "device": "tmpfs", "o": o}
				memVols = append(memVols, name)
			}
			pl.Volumes = append(pl.Volumes, vol)
		case v.PersistentVolumeClaim != nil:
			pl.Claims = append(pl.Claims, v.PersistentVolumeClaim.ClaimName)
		case v.HostPath != nil:
		default:
			return nil, fmt.Errorf("pod %s: volume %s: only emptyDir, persistentVolumeClaim and hostPath volumes are played", p.Name, name)
		}
	}
	slices.SortFunc(pl.Volumes, func(a, b Volume) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(memVols)
	slices.Sort(pl.Claims)
	pl.Claims = slices.Compact(pl.Claims)

	infra := p.Name + "-infra"
	if infraImage == "" {
		infraImage = spec.Containers[0].Image
	}
	pl.Containers = append(pl.Containers, Container{
		Name: infra,
		Role: RoleInfra,
		Config: containertypes.Config{
			Image:      infraImage,
			Hostname:   p.Name,
			Entrypoint: []string{"sleep", "2147483647"},
			Cmd:        []string{},
			Labels:     map[string]string{PodLabel: p.Name, RoleLabel: RoleInfra},
		},
		HostConfig: containertypes.HostConfig{ReadonlyRootfs: true},
	})
	for _, name := range memVols {
		infraHC := &pl.Containers[0].HostConfig
		infraHC.Binds = append(infraHC.Binds, p.Name+"-"+name+":"+PodVolumesDir+"/"+name)
	}
	mk := func(c *corev1.Container, role string) (Container, error) {
		out := Container{
			Name: p.Name + "-" + c.Name,
			Role: role,
			Config: containertypes.Config{
				Image:      c.Image,
				Entrypoint: c.Command,
				Cmd:        c.Args,
				WorkingDir: c.WorkingDir,
				Tty:        c.TTY,
				OpenStdin:  c.Stdin,
				Labels:     map[string]string{PodLabel: p.Name, RoleLabel: role},
			},
			HostConfig: containertypes.HostConfig{
				NetworkMode: containertypes.NetworkMode("container:" + infra),
				Tmpfs:       map[string]string{},
			},
		}
		if c.Image == "" {
			return out, fmt.Errorf("pod %s: container %s has no image", p.Name, c.Name)
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil {
				warn("container %s: env %s from %s is not played", c.Name, e.Name, "valueFrom")
				continue
			}
			out.Config.Env = append(out.Config.Env, e.Name+"="+e.Value)
		}
		if len(c.EnvFrom) > 0 {
			warn("container %s: envFrom is not played", c.Name)
		}
		for _, port := range c.Ports {
			if port.HostPort != 0 {
				warn("container %s: hostPort %d is not published", c.Name, port.HostPort)
			}
		}
		if c.LivenessProbe != nil || c.ReadinessProbe != nil || c.StartupProbe != nil {
			warn("container %s: probes are not played", c.Name)
		}
		if c.Lifecycle != nil {
			warn("container %s: lifecycle hooks are not played", c.Name)
		}
		if err := applyResources(&out.HostConfig, c.Resources, func(s string) { warn("container %s: %s", c.Name, s) }); err != nil {
			return out, fmt.Errorf("pod %s: container %s: %w", p.Name, c.Name, err)
		}
		applySecurity(&out, spec.SecurityContext, c.SecurityContext, func(s string) { warn("container %s: %s", c.Name, s) })
		for _, vm := range c.VolumeMounts {
			v, ok := vols[vm.Name]
			if !ok {
				return out, fmt.Errorf("pod %s: container %s mounts volume %s, which the Pod does not have", p.Name, c.Name, vm.Name)
			}
			if vm.SubPath != "" || vm.SubPathExpr != "" {
				return out, fmt.Errorf("pod %s: container %s: subPath is not supported", p.Name, c.Name)
			}
			ro := ""
			if vm.ReadOnly {
				ro = ":ro"
			}
			switch {
			case tmpfsVol[vm.Name]:
				var opts []string
				if v.EmptyDir.SizeLimit != nil {
					opts = append(opts, "size="+strconv.FormatInt(v.EmptyDir.SizeLimit.Value(), 10))
				}
				// An emptyDir is mounted exec; an empty one is
				// world-writable, a filled one has the mode cp -a gave it.
				if dest, ok := copyUp[vm.Name]; ok && dest == path.Clean(vm.MountPath) {
					opts = append(opts, "tmpcopyup", "exec")
				} else {
					opts = append(opts, "notmpcopyup", "exec", "mode=1777")
				}
				if vm.ReadOnly {
					opts = append(opts, "ro")
				}
				out.HostConfig.Tmpfs[vm.MountPath] = strings.Join(opts, ",")
			case v.EmptyDir != nil:
				out.HostConfig.Binds = append(out.HostConfig.Binds, p.Name+"-"+vm.Name+":"+vm.MountPath+ro)
			case v.PersistentVolumeClaim != nil:
				out.HostConfig.Binds = append(out.HostConfig.Binds, v.PersistentVolumeClaim.ClaimName+":"+vm.MountPath+ro)
			case v.HostPath != nil:
				out.HostConfig.Binds = append(out.HostConfig.Binds, v.HostPath.Path+":"+vm.MountPath+ro)
			}
		}
		return out, nil
	}
	for i := range inits {
		c, err := mk(&inits[i], RoleInit)
		if err != nil {
			return nil, err
		}
		pl.Containers = append(pl.Containers, c)
	}
	var rp containertypes.RestartPolicyMode
	switch spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		rp = containertypes.RestartPolicyDisabled
	case corev1.RestartPolicyOnFailure:
		rp = containertypes.RestartPolicyOnFailure
	default:
		rp = containertypes.RestartPolicyAlways
	}
	for i := range spec.Containers {
		c, err := mk(&spec.Containers[i], RoleApp)
		if err != nil {
			return nil, err
		}
		c.HostConfig.RestartPolicy = containertypes.RestartPolicy{Name: rp}
		pl.Containers = append(pl.Containers, c)
	}
	podUnsupported(spec, warn)
	return pl, nil
}

func applyResources(hc *containertypes.HostConfig, r corev1.ResourceRequirements, warn func(string)) error {
	for name, q := range r.Limits {
		switch name {
		case corev1.ResourceMemory:
			hc.Memory = q.Value()
		case corev1.ResourceCPU:
			hc.NanoCPUs = q.MilliValue() * 1_000_000
		default:
			warn(fmt.Sprintf("limit %s is not played", name))
		}
	}
	if len(r.Requests) > 0 {
		warn("resource requests are not played (Berth has no scheduler)")
	}
	return nil
}

func applySecurity(out *Container, pod *corev1.PodSecurityContext, sc *corev1.SecurityContext, warn func(string)) {
	hc := &out.HostConfig
	var uid, gid *int64
	var seccomp *corev1.SeccompProfile
	if pod != nil {
		uid, gid, seccomp = pod.RunAsUser, pod.RunAsGroup, pod.SeccompProfile
		if len(pod.SupplementalGroups) > 0 {
			for _, g := range pod.SupplementalGroups {
				hc.GroupAdd = append(hc.GroupAdd, strconv.FormatInt(g, 10))
			}
		}
		if pod.FSGroup != nil {
			warn("fsGroup is not played")
		}
		if len(pod.Sysctls) > 0 {
			warn("sysctls are not played")
		}
	}
	if sc != nil {
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			gid = sc.RunAsGroup
		}
		if sc.SeccompProfile != nil {
			seccomp = sc.SeccompProfile
		}
		if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
			hc.ReadonlyRootfs = true
		}
		if sc.Privileged != nil && *sc.Privileged {
			hc.Privileged = true
		}
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			hc.SecurityOpt = append(hc.SecurityOpt, "no-new-privileges")
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Add {
				hc.CapAdd = append(hc.CapAdd, string(c))
			}
			for _, c := range sc.Capabilities.Drop {
				hc.CapDrop = append(hc.CapDrop, string(c))
			}
		}
		if sc.SELinuxOptions != nil || sc.AppArmorProfile != nil || sc.ProcMount != nil || sc.WindowsOptions != nil {
			warn("seLinuxOptions, appArmorProfile, procMount and windowsOptions are not played")
		}
	}
	switch {
	case uid != nil && gid != nil:
		out.Config.User = fmt.Sprintf("%d:%d", *uid, *gid)
	case uid != nil:
		out.Config.User = strconv.FormatInt(*uid, 10)
	case gid != nil:
		warn("runAsGroup without runAsUser is not played")
	}
	if seccomp != nil {
		switch seccomp.Type {
		case corev1.SeccompProfileTypeRuntimeDefault:
		case corev1.SeccompProfileTypeUnconfined:
			hc.SecurityOpt = append(hc.SecurityOpt, "seccomp=unconfined")
		default:
			warn(fmt.Sprintf("seccompProfile %s is not played; the default profile applies", seccomp.Type))
		}
	}
}

func podUnsupported(spec *corev1.PodSpec, warn func(string, ...any)) {
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		warn("hostNetwork, hostPID and hostIPC are not played")
	}
	if len(spec.HostAliases) > 0 {
		warn("hostAliases are not played")
	}
	if spec.DNSConfig != nil {
		warn("dnsConfig is not played")
	}
	if spec.NodeSelector != nil || spec.Affinity != nil || len(spec.Tolerations) > 0 {
		warn("scheduling (nodeSelector, affinity, tolerations) does not apply on one host")
	}
	if len(spec.ImagePullSecrets) > 0 {
		warn("imagePullSecrets are not played")
	}
}
