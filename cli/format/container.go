package format

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
)

// ContainerTableFormat is the default `ps` table.
const ContainerTableFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

// ContainerHeader holds the column titles of the container fields.
var ContainerHeader = map[string]string{
	"ID":           "CONTAINER ID",
	"Image":        "IMAGE",
	"Command":      "COMMAND",
	"CreatedAt":    "CREATED AT",
	"RunningFor":   "CREATED",
	"Ports":        "PORTS",
	"State":        "STATE",
	"Status":       "STATUS",
	"Size":         "SIZE",
	"Names":        "NAMES",
	"Labels":       "LABELS",
	"Mounts":       "MOUNTS",
	"Networks":     "NETWORKS",
	"LocalVolumes": "LOCAL VOLUMES",
}

// Container is the template context for one `ps` row; its methods are the
// fields a --format template can use.
type Container struct {
	C     containertypes.Summary
	Trunc bool
	Now   time.Time
}

// ID is the container ID, 12 characters unless untruncated.
func (c Container) ID() string {
	if c.Trunc {
		return TruncateID(c.C.ID)
	}
	return c.C.ID
}

// Names lists the container's names without the leading '/'; truncated
// output keeps only the primary name (no link aliases).
func (c Container) Names() string {
	var names []string
	for _, n := range c.C.Names {
		names = append(names, strings.TrimPrefix(n, "/"))
	}
	if c.Trunc {
		for _, n := range names {
			if !strings.Contains(n, "/") {
				return n
			}
		}
	}
	return strings.Join(names, ",")
}

// Image is the image the container was created from, in its short form.
func (c Container) Image() string {
	img := c.C.Image
	if img == "" {
		return "<no image>"
	}
	if !c.Trunc {
		return img
	}
	if strings.HasPrefix(img, "sha256:") {
		return TruncateID(img)
	}
	if name, _, hasDigest := strings.Cut(img, "@"); hasDigest && strings.Contains(lastPathElem(name), ":") {
		img = name
	}
	for _, p := range []string{"docker.io/library/", "docker.io/"} {
		if strings.HasPrefix(img, p) {
			img = strings.TrimPrefix(img, p)
			break
		}
	}
	return img
}

func lastPathElem(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Command is the quoted command line, shortened to 20 characters unless
// untruncated.
func (c Container) Command() string {
	cmd := c.C.Command
	if c.Trunc {
		cmd = Ellipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}

// CreatedAt is the creation time.
func (c Container) CreatedAt() string {
	return time.Unix(c.C.Created, 0).String()
}

// RunningFor is the age of the container ("5 minutes ago").
func (c Container) RunningFor() string {
	return SinceUnix(c.C.Created, c.now())
}

func (c Container) now() time.Time {
	if c.Now.IsZero() {
		return time.Now()
	}
	return c.Now
}

// Ports lists the exposed and published ports.
func (c Container) Ports() string {
	return Ports(c.C.Ports)
}

// State is the machine-readable state ("running").
func (c Container) State() string { return string(c.C.State) }

// Status is the human state ("Up 3 seconds"), as computed by the daemon,
// falling back to the state when the daemon sent none.
func (c Container) Status() string {
	if c.C.Status != "" {
		return c.C.Status
	}
	return ContainerStatus(string(c.C.State), 0, time.Time{}, time.Time{}, c.now())
}

// Size is the writable layer size and the virtual size.
func (c Container) Size() string {
	if c.C.SizeRw == 0 && c.C.SizeRootFs == 0 {
		return "0B"
	}
	s := Size(c.C.SizeRw)
	if c.C.SizeRootFs > 0 {
		s += " (virtual " + Size(c.C.SizeRootFs) + ")"
	}
	return s
}

// Labels renders the labels as "k=v,k=v", sorted.
func (c Container) Labels() string { return joinLabels(c.C.Labels) }

// Label returns the value of one label.
func (c Container) Label(name string) string { return c.C.Labels[name] }

// Mounts lists the mount names (volume names or sources).
func (c Container) Mounts() string {
	var out []string
	for _, m := range c.C.Mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if c.Trunc {
			name = Ellipsis(name, 15)
		}
		out = append(out, name)
	}
	return strings.Join(out, ",")
}

// Networks lists the networks the container is attached to.
func (c Container) Networks() string {
	if c.C.NetworkSettings == nil {
		return ""
	}
	var out []string
	for n := range c.C.NetworkSettings.Networks {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// LocalVolumes counts the local volumes mounted into the container.
func (c Container) LocalVolumes() string {
	n := 0
	for _, m := range c.C.Mounts {
		if m.Driver == "local" {
			n++
		}
	}
	return strconv.Itoa(n)
}

// MarshalJSON renders the row for `--format json`.
func (c Container) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"Command": c.Command(), "CreatedAt": c.CreatedAt(), "ID": c.ID(), "Image": c.Image(),
		"Labels": c.Labels(), "LocalVolumes": c.LocalVolumes(), "Mounts": c.Mounts(), "Names": c.Names(),
		"Networks": c.Networks(), "Ports": c.Ports(), "RunningFor": c.RunningFor(), "Size": c.Size(),
		"State": c.State(), "Status": c.Status(),
	})
}

// Ports renders ports as Docker does: "0.0.0.0:8080->80/tcp, 443/tcp".
func Ports(ports []containertypes.PortSummary) string {
	out := make([]string, 0, len(ports))
	seen := map[string]bool{}
	for _, p := range ports {
		var s string
		if p.IP.IsValid() && p.PublicPort != 0 {
			s = fmt.Sprintf("%s->%d/%s", net.JoinHostPort(p.IP.String(), strconv.Itoa(int(p.PublicPort))), p.PrivatePort, p.Type)
		} else {
			s = fmt.Sprintf("%d/%s", p.PrivatePort, p.Type)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func joinLabels(labels map[string]string) string {
	kv := make([]string, 0, len(labels))
	for k, v := range labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}
