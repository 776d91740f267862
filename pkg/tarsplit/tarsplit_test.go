package tarsplit

import (
	"archive/tar"
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func sampleTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		assert.NilError(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(body))
		assert.NilError(t, err)
	}
	add(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "dir/a", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5}, "hello")
	add(&tar.Header{Name: "dir/" + strings.Repeat("long", 40), Typeflag: tar.TypeReg, Mode: 0o600, Size: 700, PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v"}}, strings.Repeat("x", 700))
	add(&tar.Header{Name: "dir/link", Typeflag: tar.TypeLink, Linkname: "dir/a"}, "")
	add(&tar.Header{Name: "dir/.wh.gone", Typeflag: tar.TypeReg, Mode: 0o644}, "")
	add(&tar.Header{Name: "dir/sym", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, "")
	// Data in an entry that is not a regular file, longer than a raw
	// segment: kept, in pieces.
	add(&tar.Header{Name: "dir/odd", Typeflag: 'Z', Size: 3 << 20}, strings.Repeat("z", 3<<20))
	assert.NilError(t, tw.Close())
	// Extra zero blocks after the trailer, as some writers pad.
	buf.Write(make([]byte, 1024))
	return buf.Bytes()
}

func TestRecordWriteRoundTrip(t *testing.T) {
	t.Parallel()
	orig := sampleTar(t)
	var segs []Segment
	assert.NilError(t, Record(bytes.NewReader(orig), func(s Segment) error { segs = append(segs, s); return nil }))
	var named int
	for _, s := range segs {
		if s.Name != "" {
			named++
		}
		assert.Check(t, len(s.Raw) <= maxRaw+64<<10)
	}
	assert.Equal(t, named, 2, "only regular files with content are left out")

	files := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(orig))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		assert.NilError(t, err)
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	path := filepath.Join(t.TempDir(), "split.json.gz")
	assert.NilError(t, RecordFile(bytes.NewReader(orig), path))
	var out bytes.Buffer
	assert.NilError(t, Write(&out, path, func(name string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(files[name])), nil
	}))
	assert.Assert(t, bytes.Equal(out.Bytes(), orig), "the rebuilt stream is byte-identical")

	// A file whose content changed size is refused.
	err := Write(io.Discard, path, func(name string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(files[name] + "more")), nil
	})
	assert.ErrorContains(t, err, "size changed")
}

func TestRecordRefusesGarbage(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "split.json.gz")
	err := RecordFile(strings.NewReader(strings.Repeat("not a tar ", 100)), path)
	assert.Check(t, err != nil)
	assert.ErrorContains(t, Write(io.Discard, path, nil), "no such file")
}

func FuzzRecord(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 1024))
	f.Fuzz(func(t *testing.T, data []byte) {
		var total int
		err := Record(bytes.NewReader(data), func(s Segment) error {
			total += len(s.Raw) + int(s.Size)
			return nil
		})
		if err == nil && total != len(data) {
			t.Fatalf("segments cover %d bytes of %d", total, len(data))
		}
	})
}
