package kube

import (
	"os"
	"strconv"
	"strings"

	volumetypes "github.com/moby/moby/api/types/volume"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// IsTmpfsVolume reports whether v is a local volume whose driver options
// make it a tmpfs (`docker volume create --opt type=tmpfs`, what play makes
// of a memory emptyDir shared by several containers).
func IsTmpfsVolume(v volumetypes.Volume) bool {
	return (v.Driver == "" || v.Driver == "local") && v.Options["type"] == "tmpfs"
}

// tmpfsVolume adds, once per Berth volume, the memory emptyDir that stands
// for the tmpfs volume v, and returns its name: every container that
// mounts v mounts that one emptyDir.
func (g *generator) tmpfsVolume(v volumetypes.Volume) string {
	what := "volume " + v.Name
	if name, ok := g.volumes[what]; ok {
		return name
	}
	ed := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}
	size, lost, err := tmpfsVolumeOptions(v.Options["o"], int64(os.Getpagesize()))
	switch {
	case err != nil:
		g.warn("volume %s: o=%s: %v; no sizeLimit", v.Name, v.Options["o"], err)
	case size > 0:
		ed.SizeLimit = resource.NewQuantity(size, resource.BinarySI)
	}
	if len(lost) > 0 {
		g.warn("volume %s: tmpfs options an emptyDir cannot express: %s", v.Name, strings.Join(lost, ", "))
	}
	name, _ := g.addVolume(what, corev1.Volume{Name: emptyDirName(v), VolumeSource: corev1.VolumeSource{EmptyDir: ed}})
	return name
}

// emptyDirName names the emptyDir of tmpfs volume v: the volume's name,
// without the "POD-" that play put in front of the emptyDir's own name
// when v carries play's label, so that generate → play → generate keeps
// the name.
func emptyDirName(v volumetypes.Volume) string {
	name := v.Name
	if pod := v.Labels[PodLabel]; pod != "" && strings.HasPrefix(name, pod+"-") && len(name) > len(pod)+1 {
		name = strings.TrimPrefix(name, pod+"-")
	}
	if n := dnsName(name); n != "" {
		return n
	}
	return "volume"
}

// tmpfsVolumeOptions reads a tmpfs volume's o= option: the size limit in
// bytes (0 for none) and the options an emptyDir has no field for. An
// emptyDir is world-writable and mounted exec, read-write: mode=1777 (or
// 777), exec, rw, nosuid and nodev say nothing more. pageSize converts
// nr_blocks.
func tmpfsVolumeOptions(o string, pageSize int64) (size int64, lost []string, err error) {
	opts, err := tmpfsopt.Parse(o)
	if err != nil {
		return 0, nil, err
	}
	limit := opts.Limit(pageSize)
	switch {
	case limit.Percent > 0:
		lost = append(lost, opts.SizeOption()+" (a percentage of the memory: no sizeLimit)")
	case !limit.Unlimited:
		size = limit.Bytes
	}
	for _, w := range opts.Flags {
		switch w {
		case "rw", "exec", "nosuid", "nodev":
		case "noexec":
			lost = append(lost, "noexec (an emptyDir is mounted exec)")
		default:
			lost = append(lost, w)
		}
	}
	if opts.Mode != nil && *opts.Mode != 0o1777 && *opts.Mode != 0o777 {
		lost = append(lost, "mode="+strconv.FormatUint(uint64(*opts.Mode), 8))
	}
	for _, kv := range []struct{ key, value string }{
		{"uid", opts.UID}, {"gid", opts.GID}, {"nr_inodes", opts.NrInodes}, {"mpol", opts.Mpol}, {"huge", opts.Huge},
	} {
		if kv.value != "" {
			lost = append(lost, kv.key+"="+kv.value)
		}
	}
	for _, w := range []struct {
		name string
		set  bool
	}{{"noswap", opts.Noswap}, {"inode64", opts.Inode64}, {"inode32", opts.Inode32}} {
		if w.set {
			lost = append(lost, w.name)
		}
	}
	return size, lost, nil
}
