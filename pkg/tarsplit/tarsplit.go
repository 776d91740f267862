// Package tarsplit records the framing of a tar stream (its headers,
// padding and trailer) apart from the contents of its regular files, so
// that the byte-identical stream can be rebuilt later from the framing and
// the extracted files. An image layer's digest is that of its tar stream:
// a store that keeps layers extracted needs this to export them unchanged
// (Docker keeps the same with vbatts/tar-split).
package tarsplit

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Segment is a piece of a tar stream: raw bytes, or the content of the
// regular file Name, Size bytes long.
type Segment struct {
	Raw  []byte `json:"r,omitempty"`
	Name string `json:"n,omitempty"`
	Size int64  `json:"s,omitempty"`
}

// recorder keeps what it reads while raw is set.
type recorder struct {
	r   io.Reader
	buf bytes.Buffer
	raw bool
}

func (rr *recorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if rr.raw {
		rr.buf.Write(p[:n])
	}
	return n, err
}

func (rr *recorder) take() []byte {
	b := bytes.Clone(rr.buf.Bytes())
	rr.buf.Reset()
	return b
}

// Record reads the tar stream r to its end and returns its segments.
// Only the contents of regular files are left out; everything else
// (headers, long-name records, other entries' data, padding, trailer) is
// kept as raw bytes.
func Record(r io.Reader) ([]Segment, error) {
	rr := &recorder{r: r, raw: true}
	tr := tar.NewReader(rr)
	var segs []Segment
	for {
		rr.raw = true
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if raw := rr.take(); len(raw) > 0 {
			segs = append(segs, Segment{Raw: raw})
		}
		if h.Typeflag != tar.TypeReg || h.Size == 0 {
			continue // any data stays raw
		}
		rr.raw = false
		n, err := io.Copy(io.Discard, tr)
		if err != nil {
			return nil, err
		}
		segs = append(segs, Segment{Name: h.Name, Size: n})
	}
	rr.raw = true
	if _, err := io.Copy(io.Discard, rr); err != nil {
		return nil, err
	}
	if raw := rr.take(); len(raw) > 0 {
		segs = append(segs, Segment{Raw: raw})
	}
	return segs, nil
}

// Write rebuilds the stream of segs on w; open returns the content of a
// regular file by its name in the stream. A file whose size changed is an
// error: the stream would not be the recorded one.
func Write(w io.Writer, segs []Segment, open func(name string) (io.ReadCloser, error)) error {
	for _, s := range segs {
		if s.Name == "" {
			if _, err := w.Write(s.Raw); err != nil {
				return err
			}
			continue
		}
		f, err := open(s.Name)
		if err != nil {
			return err
		}
		n, err := io.Copy(w, io.LimitReader(f, s.Size))
		if err == nil {
			var extra [1]byte
			if m, _ := f.Read(extra[:]); m > 0 || n != s.Size {
				err = fmt.Errorf("%s: size changed since the layer was recorded", s.Name)
			}
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Save writes segs to path, compressed.
func Save(path string, segs []Segment) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	err = json.NewEncoder(zw).Encode(segs)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Load reads segments written by Save.
func Load(path string) ([]Segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var segs []Segment
	if err := json.NewDecoder(zr).Decode(&segs); err != nil {
		return nil, err
	}
	return segs, nil
}
