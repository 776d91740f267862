package chrootarchive

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/moby/go-archive"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestRefusal(t *testing.T) {
	t.Parallel()
	places := []Place{
		{Dir: "/", Refusal: "container rootfs is marked read-only"},
		{Dir: "/tmp"},
		{Dir: "/tmp/ro", Refusal: "mounted tmpfs is marked read-only"},
		{Dir: "/data", Refusal: "mounted volume is marked read-only"},
	}
	for _, tc := range []struct {
		p, want string
	}{
		{"/", "container rootfs is marked read-only"},
		{"/etc", "container rootfs is marked read-only"},
		{"/tmp", ""},
		{"/tmp/x/y", ""},
		{"/tmpfoo", "container rootfs is marked read-only"},
		{"/tmp/ro", "mounted tmpfs is marked read-only"},
		{"/tmp/ro/a", "mounted tmpfs is marked read-only"},
		{"/data/a", "mounted volume is marked read-only"},
	} {
		assert.Check(t, is.Equal(Refusal(places, tc.p), tc.want), tc.p)
	}
	assert.Check(t, is.Equal(Refusal(nil, "/x"), ""))
}

type entry struct {
	h    tar.Header
	body string
}

func tarOf(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.h
		h.Size = int64(len(e.body))
		h.Mode = 0o644
		assert.NilError(t, tw.WriteHeader(&h))
		_, err := tw.Write([]byte(e.body))
		assert.NilError(t, err)
	}
	assert.NilError(t, tw.Close())
	return &buf
}

// TestUntarError classifies the errors go-archive really returns, so that
// a change of its (unexported) error types shows here.
func TestUntarError(t *testing.T) {
	t.Parallel()
	reg := func(name string) entry { return entry{h: tar.Header{Name: name, Typeflag: tar.TypeReg}, body: "x"} }
	for _, tc := range []struct {
		name    string
		content io.Reader
		want    string
	}{
		{"text", strings.NewReader("not a tar\n"), "the content is not a valid tar archive: unexpected EOF"},
		{"junk block", strings.NewReader(strings.Repeat("junk", 256)), "the content is not a valid tar archive: archive/tar: invalid tar header"},
		{"missing hardlink target", tarOf(t, entry{h: tar.Header{Name: "b", Typeflag: tar.TypeLink, Linkname: "missing"}}),
			`invalid archive: the target "missing" of hardlink "b" is missing`},
		{"entry with ..", tarOf(t, reg("../x")), "invalid archive: an entry leads out of the extraction directory"},
		{"hardlink with ..", tarOf(t, entry{h: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../etc/passwd"}}),
			"invalid archive: an entry leads out of the extraction directory"},
		{"through a symlink to ..", tarOf(t, entry{h: tar.Header{Name: "u", Typeflag: tar.TypeSymlink, Linkname: "../.."}}, reg("u/x")),
			"invalid archive: an entry leads out of the extraction directory"},
	} {
		err := archive.UntarUncompressed(tc.content, t.TempDir(), &archive.TarOptions{NoLchown: true})
		assert.Assert(t, err != nil, tc.name)
		rep := untarError(err)
		assert.Check(t, is.Equal(rep.Class, classInvalid), "%s: %v", tc.name, err)
		assert.Check(t, strings.HasPrefix(rep.Error, tc.want), "%s: %q", tc.name, rep.Error)
	}
	rep := untarError(&os.PathError{Op: "open", Path: "x", Err: unix.EROFS})
	assert.Check(t, is.Equal(rep.Class, classInvalid))
	rep = untarError(&os.PathError{Op: "write", Path: "x", Err: unix.ENOSPC})
	assert.Check(t, is.Equal(rep.Class, ""))
	assert.Check(t, is.Contains(rep.Error, "no space left"))
}

// TestAbsoluteEntries: entries of a whole root get a leading "/", as
// Docker names them, and keep long names as PAX records even when the
// header was read as ustar.
func TestAbsoluteEntries(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 100) // fits ustar; with the "/" it does not
	src := tarOf(t,
		entry{h: tar.Header{Name: long, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, body: "l"},
		entry{h: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: long}},
	)
	tr := tar.NewReader(absoluteEntries(io.NopCloser(src)))
	h, err := tr.Next()
	assert.NilError(t, err)
	assert.Check(t, is.Equal(h.Name, "/"+long))
	data, _ := io.ReadAll(tr)
	assert.Check(t, is.Equal(string(data), "l"))
	h, err = tr.Next()
	assert.NilError(t, err)
	assert.Check(t, is.Equal(h.Name, "/h"))
	assert.Check(t, is.Equal(h.Linkname, "/"+long))
	_, err = tr.Next()
	assert.Check(t, is.Equal(err, io.EOF))
}
