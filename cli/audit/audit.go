// Package audit turns what a container wrote (Berth's
// GET /containers/{id}/berth/writes) into the production flags of its
// image: the smallest set of directories that hold the writes, each
// classified as a tmpfs (scratch, caches, pid files, sockets) or a volume
// (the image's VOLUMEs and well-known data paths), printed as docker run
// flags, a compose service, io.berth.* labels or JSON. It is pure.
package audit

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/berth-project/berth/api/types/berth"
)

// Class is what a directory should be in production.
type Class string

const (
	Tmpfs  Class = "tmpfs"
	Volume Class = "volume"
)

// DataPaths are well-known directories of persistent data: writes there
// need a volume, not a tmpfs.
var DataPaths = []string{
	"/data",
	"/var/lib/elasticsearch",
	"/var/lib/influxdb",
	"/var/lib/mongodb",
	"/var/lib/mysql",
	"/var/lib/postgresql",
	"/var/lib/rabbitmq",
	"/var/lib/redis",
}

// Group is one directory the application needs writable.
type Group struct {
	Path  string
	Class Class
	// Bytes is what the application wrote below Path (regular files).
	Bytes int64
	// Entries counts the written entries below Path.
	Entries int
	// Size is a tmpfs's size= with headroom ("8m").
	Size string `json:",omitempty"`
	// VolumeName is a volume's suggested name.
	VolumeName string `json:",omitempty"`
	// Reason says why it is a volume ("image VOLUME", "data path").
	Reason string `json:",omitempty"`
}

// Report is the audit's result.
type Report struct {
	Image   string
	Command []string `json:",omitempty"`
	Groups  []Group
	// Warnings are writes no flag can allow (to / itself) and truncation.
	Warnings []string `json:",omitempty"`
}

// Analyze groups the writes of a container of image (whose VOLUMEs are
// imageVolumes) into directories.
func Analyze(image string, command []string, imageVolumes []string, w berth.Writes) Report {
	r := Report{Image: image, Command: command, Groups: []Group{}}
	isVolume := map[string]string{}
	for _, p := range DataPaths {
		isVolume[p] = "data path"
	}
	for _, p := range imageVolumes {
		isVolume[path.Clean(p)] = "image VOLUME"
	}
	added := map[string]bool{} // paths the application created
	for _, c := range w.Changes {
		if !c.InImage {
			added[c.Path] = true
		}
	}
	groups := map[string]*Group{}
	var rootWrites []string
	at := func(p string) *Group {
		g := groups[p]
		if g == nil {
			g = &Group{Path: p}
			groups[p] = g
		}
		return g
	}
	for _, c := range w.Changes {
		if c.Kind == "dir" && c.InImage {
			continue // held by the layer only because something below changed
		}
		var g *Group
		if v := under(c.Path, isVolume); v != "" {
			g = at(v)
		} else if a := anchor(c.Path, c.Kind == "dir", added); a != "/" {
			g = at(a)
		} else {
			rootWrites = append(rootWrites, c.Path)
			continue
		}
		g.Entries++
		g.Bytes += c.Size
	}
	for _, v := range w.Volumes {
		g := at(v.Destination)
		g.Bytes += v.Bytes
		if _, ok := isVolume[v.Destination]; !ok {
			isVolume[v.Destination] = "volume"
		}
	}
	// The smallest set: a directory below another one is covered by it.
	paths := make([]string, 0, len(groups))
	for p := range groups {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var kept []*Group
	for _, p := range paths {
		g := groups[p]
		if parent := covering(kept, p); parent != nil {
			parent.Bytes += g.Bytes
			parent.Entries += g.Entries
			continue
		}
		kept = append(kept, g)
	}
	base := imageBase(image)
	if len(rootWrites) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the application writes directly to / (%s): no tmpfs or volume can allow it on a read-only root; move these files to a directory", strings.Join(rootWrites, ", ")))
	}
	for _, g := range kept {
		if reason, ok := isVolume[g.Path]; ok {
			g.Class, g.Reason = Volume, reason
			g.VolumeName = base + "-" + strings.ReplaceAll(strings.Trim(g.Path, "/"), "/", "-")
		} else {
			g.Class, g.Size = Tmpfs, Headroom(g.Bytes)
		}
		r.Groups = append(r.Groups, *g)
	}
	if w.Truncated {
		r.Warnings = append(r.Warnings, "the daemon reported only part of the writes: the container wrote more entries (or deeper) than it walks")
	}
	return r
}

// under returns the directory of set that holds p (or is p), "" if none.
func under(p string, set map[string]string) string {
	for d := p; ; d = path.Dir(d) {
		if _, ok := set[d]; ok {
			return d
		}
		if d == "/" {
			return ""
		}
	}
}

// anchor is the image directory a write happened in: the parent of the
// topmost directory the application created on its way to p, else p's
// parent; a directory created in / is its own anchor.
func anchor(p string, isDir bool, added map[string]bool) string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := ""
	for _, part := range parts {
		cur += "/" + part
		if !added[cur] {
			continue
		}
		if parent := path.Dir(cur); parent != "/" || (cur == p && !isDir) {
			return parent
		}
		// A new top-level directory: a tmpfs can go on it itself, since
		// Berth creates the mount point.
		return cur
	}
	return path.Dir(p)
}

func covering(kept []*Group, p string) *Group {
	for _, g := range kept {
		if strings.HasPrefix(p, g.Path+"/") {
			return g
		}
	}
	return nil
}

// Headroom is the tmpfs size for content of n bytes: twice n rounded up
// to a power of two mebibytes, at least 1m.
func Headroom(n int64) string {
	mib := int64(1)
	for mib<<20 < 2*n {
		mib *= 2
	}
	return fmt.Sprintf("%dm", mib)
}

// imageBase is a reference's last path component without tag or digest.
func imageBase(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	b := path.Base(ref)
	if i := strings.LastIndexByte(b, ':'); i > 0 {
		b = b[:i]
	}
	if b == "" || b == "." || b == "/" {
		return "app"
	}
	return b
}

// Flags are the docker run flags of the report.
func (r Report) Flags() []string {
	out := []string{"--read-only"}
	for _, g := range r.Groups {
		if g.Class == Tmpfs {
			out = append(out, "--tmpfs", g.Path+":size="+g.Size)
		}
	}
	for _, g := range r.Groups {
		if g.Class == Volume {
			out = append(out, "-v", g.VolumeName+":"+g.Path)
		}
	}
	return out
}

// FlagsLine is Flags as one shell line.
func (r Report) FlagsLine() string {
	flags := r.Flags()
	for i, f := range flags {
		flags[i] = shellQuote(f)
	}
	return strings.Join(flags, " ")
}

// tmpfsLabel is the io.berth.tmpfs value.
func (r Report) tmpfsLabel() string {
	var entries []string
	for _, g := range r.Groups {
		if g.Class == Tmpfs {
			entries = append(entries, g.Path+":size="+g.Size)
		}
	}
	return strings.Join(entries, " ")
}

// Labels are Dockerfile lines: the io.berth.* labels, and VOLUME for data
// directories the image does not declare.
func (r Report) Labels() string {
	var b strings.Builder
	fmt.Fprintf(&b, "LABEL io.berth.read-only=\"true\" io.berth.tmpfs=%q\n", r.tmpfsLabel())
	for _, g := range r.Groups {
		if g.Class == Volume && g.Reason != "image VOLUME" {
			fmt.Fprintf(&b, "VOLUME [%q]\n", g.Path)
		}
	}
	return b.String()
}

// Compose is a docker-compose file with one service running the image
// read-only.
func (r Report) Compose() string {
	name := imageBase(r.Image)
	var b strings.Builder
	fmt.Fprintf(&b, "version: \"2.4\"\nservices:\n  %s:\n    image: %s\n", name, yamlString(r.Image))
	if len(r.Command) > 0 {
		cmd, _ := json.Marshal(r.Command)
		fmt.Fprintf(&b, "    command: %s\n", cmd)
	}
	b.WriteString("    read_only: true\n")
	var tmpfs, vols []string
	for _, g := range r.Groups {
		switch g.Class {
		case Tmpfs:
			tmpfs = append(tmpfs, g.Path+":size="+g.Size)
		case Volume:
			vols = append(vols, g.VolumeName+":"+g.Path)
		}
	}
	if len(tmpfs) > 0 {
		b.WriteString("    tmpfs:\n")
		for _, t := range tmpfs {
			fmt.Fprintf(&b, "      - %s\n", yamlString(t))
		}
	}
	if len(vols) > 0 {
		b.WriteString("    volumes:\n")
		for _, v := range vols {
			fmt.Fprintf(&b, "      - %s\n", yamlString(v))
		}
		b.WriteString("volumes:\n")
		for _, g := range r.Groups {
			if g.Class == Volume {
				fmt.Fprintf(&b, "  %s: {}\n", g.VolumeName)
			}
		}
	}
	return b.String()
}

// yamlString quotes s as a YAML (JSON) string.
func yamlString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// shellQuote quotes s for sh when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Merge is what an application wrote while it ran (before) together with
// what its stop left (after): a file it removes on stop (a pid file, a
// socket) still needed a writable place, and a file written on the way
// out (a final log line) does too. A path in both keeps the larger size;
// volumes keep their later usage.
func Merge(before, after berth.Writes) berth.Writes {
	out := berth.Writes{Volumes: after.Volumes, Truncated: before.Truncated || after.Truncated}
	if out.Volumes == nil {
		out.Volumes = before.Volumes
	}
	index := map[string]int{}
	for _, list := range [][]berth.Write{before.Changes, after.Changes} {
		for _, w := range list {
			if i, ok := index[w.Path]; ok {
				if w.Size > out.Changes[i].Size {
					out.Changes[i].Size = w.Size
				}
				continue
			}
			index[w.Path] = len(out.Changes)
			out.Changes = append(out.Changes, w)
		}
	}
	// Parents before children, as the daemon lists them.
	sort.SliceStable(out.Changes, func(i, j int) bool { return out.Changes[i].Path < out.Changes[j].Path })
	return out
}
