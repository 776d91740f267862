// Package tarsplit records the framing of a tar stream (its headers,
// padding and trailer) apart from the contents of its regular files, so
// that the byte-identical stream can be rebuilt later from the framing and
// the extracted files. An image layer's digest is that of its tar stream:
// a store that keeps layers extracted needs this to export them unchanged
// (Docker keeps the same with vbatts/tar-split).
//
// Records are streamed, never held whole in memory: a hostile archive may
// hold millions of entries, or gigabytes of data in entries that are not
// regular files.
package tarsplit

import (
	"archive/tar"
	"bufio"
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

// maxRaw bounds a raw segment: longer raw data is cut into several.
const maxRaw = 1 << 20

// recorder keeps what it reads while raw is set, handing it to emit in
// segments of at most maxRaw bytes.
type recorder struct {
	r    io.Reader
	buf  bytes.Buffer
	raw  bool
	emit func(Segment) error
	err  error
}

func (rr *recorder) Read(p []byte) (int, error) {
	if rr.err != nil {
		return 0, rr.err
	}
	n, err := rr.r.Read(p)
	if rr.raw {
		rr.buf.Write(p[:n])
		if rr.buf.Len() >= maxRaw {
			if ferr := rr.flush(); ferr != nil {
				return n, ferr
			}
		}
	}
	return n, err
}

func (rr *recorder) flush() error {
	if rr.buf.Len() == 0 || rr.err != nil {
		return rr.err
	}
	rr.err = rr.emit(Segment{Raw: bytes.Clone(rr.buf.Bytes())})
	rr.buf.Reset()
	return rr.err
}

// Record reads the tar stream r to its end and hands its segments to emit,
// in order. Only the contents of regular files are left out; everything
// else (headers, long-name records, other entries' data, padding, trailer)
// is kept as raw bytes.
func Record(r io.Reader, emit func(Segment) error) error {
	rr := &recorder{r: r, raw: true, emit: emit}
	tr := tar.NewReader(rr)
	for {
		rr.raw = true
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := rr.flush(); err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg || h.Size == 0 {
			continue // any data stays raw
		}
		rr.raw = false
		n, err := io.Copy(io.Discard, tr)
		if err != nil {
			return err
		}
		if err := emit(Segment{Name: h.Name, Size: n}); err != nil {
			return err
		}
	}
	rr.raw = true
	if _, err := io.Copy(io.Discard, rr); err != nil {
		return err
	}
	return rr.flush()
}

// RecordFile records the tar stream r into the file path (compressed JSON
// lines). On error the file is removed.
func RecordFile(r io.Reader, path string) (retErr error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); retErr == nil {
			retErr = cerr
		}
		if retErr != nil {
			_ = os.Remove(path)
		}
	}()
	zw := gzip.NewWriter(f)
	enc := json.NewEncoder(zw)
	if err := Record(r, func(s Segment) error { return enc.Encode(s) }); err != nil {
		return err
	}
	return zw.Close()
}

// Write rebuilds on w the stream recorded in the file path; open returns
// the content of a regular file by its name in the stream. A file whose
// size changed is an error: the stream would not be the recorded one.
func Write(w io.Writer, path string, open func(name string) (io.ReadCloser, error)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer zr.Close()
	dec := json.NewDecoder(bufio.NewReader(zr))
	for {
		var s Segment
		if err := dec.Decode(&s); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		if err := writeSegment(w, s, open); err != nil {
			return err
		}
	}
}

func writeSegment(w io.Writer, s Segment, open func(name string) (io.ReadCloser, error)) error {
	if s.Name == "" {
		_, err := w.Write(s.Raw)
		return err
	}
	f, err := open(s.Name)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, s.Size))
	if err != nil {
		return err
	}
	var extra [1]byte
	if m, _ := f.Read(extra[:]); m > 0 || n != s.Size {
		return fmt.Errorf("%s: size changed since the layer was recorded", s.Name)
	}
	return nil
}
