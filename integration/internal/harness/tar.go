package harness

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// TarEntry is one entry of a tar archive a test builds.
type TarEntry struct {
	Name     string // path without the leading "/"
	Type     byte   // tar.TypeReg (the default), TypeDir, TypeSymlink, TypeLink
	Body     string
	Link     string
	Mode     int64 // symlinks default to 0777
	UID, GID int
	Xattrs   map[string]string
}

// Tar returns a PAX tar archive of entries, with a fixed modification time.
func Tar(t testing.TB, entries []TarEntry) []byte {
	t.Helper()
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{
			Name: e.Name, Typeflag: typ, Linkname: e.Link, Mode: e.Mode,
			Uid: e.UID, Gid: e.GID, ModTime: mtime, Format: tar.FormatPAX,
		}
		if typ == tar.TypeDir && !strings.HasSuffix(hdr.Name, "/") {
			hdr.Name += "/"
		}
		if typ == tar.TypeSymlink && hdr.Mode == 0 {
			hdr.Mode = 0o777
		}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		for k, v := range e.Xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
		assert.NilError(t, tw.WriteHeader(hdr))
		if typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.Body))
			assert.NilError(t, err)
		}
	}
	assert.NilError(t, tw.Close())
	return buf.Bytes()
}

// BusyboxRootfs is a minimal root file system: the host's static busybox
// with a symlink per applet, /etc/passwd and /etc/group with the app user
// (1000), and /tmp.
func BusyboxRootfs(t testing.TB) []TarEntry {
	t.Helper()
	busybox, err := os.ReadFile("/bin/busybox")
	assert.NilError(t, err, "busybox-static is needed: run hack/install-deps")
	list, err := exec.Command("/bin/busybox", "--list").Output()
	assert.NilError(t, err)
	entries := []TarEntry{
		{Name: "bin", Type: tar.TypeDir, Mode: 0o755},
		{Name: "bin/busybox", Body: string(busybox), Mode: 0o755},
		{Name: "etc", Type: tar.TypeDir, Mode: 0o755},
		{Name: "etc/passwd", Mode: 0o644, Body: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"},
		{Name: "etc/group", Mode: 0o644, Body: "root:x:0:\napp:x:1000:\n"},
		{Name: "tmp", Type: tar.TypeDir, Mode: 0o1777},
	}
	for _, name := range strings.Fields(string(list)) {
		if name != "busybox" {
			entries = append(entries, TarEntry{Name: "bin/" + name, Type: tar.TypeSymlink, Link: "busybox"})
		}
	}
	return entries
}
