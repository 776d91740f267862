// Package jsonlog writes and reads container logs in Docker's json-file
// format: one JSON object per line, {"log":"...","stream":"stdout","time":"..."}.
package jsonlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Entry is one log record.
type Entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// maxLine is where a line without a newline is cut into a partial record,
// as Docker does at 16 KiB.
const maxLine = 16 * 1024

// Writer appends records to a log file; safe for concurrent streams. With
// a maximum size it rotates as Docker's json-file driver does: the full
// file becomes path.1, path.1 becomes path.2, ..., keeping maxFiles files
// in all.
type Writer struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	bw       *bufio.Writer
	size     int64
	maxSize  int64 // 0: unlimited
	maxFiles int   // >= 1
}

// Open opens (or creates) a log file for appending, without rotation.
func Open(path string) (*Writer, error) {
	return OpenRotating(path, 0, 1)
}

// OpenRotating opens (or creates) a log file for appending that rotates
// once it would grow beyond maxSize bytes (0: never), keeping maxFiles
// files (the current one included).
func OpenRotating(path string, maxSize int64, maxFiles int) (*Writer, error) {
	if maxFiles < 1 {
		maxFiles = 1
	}
	w := &Writer{path: path, maxSize: maxSize, maxFiles: maxFiles}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.bw, w.size = f, bufio.NewWriter(f), st.Size()
	return nil
}

// Write records one line (or partial line) of stream.
func (w *Writer) Write(stream string, line []byte, t time.Time) error {
	data, err := json.Marshal(Entry{Log: string(line), Stream: stream, Time: t.UTC()})
	if err != nil {
		return err
	}
	data = append(data, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.maxSize > 0 && w.size > 0 && w.size+int64(len(data)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.bw.Write(data)
	w.size += int64(n)
	if err != nil {
		return err
	}
	return w.bw.Flush()
}

// rotate shifts the files by one and starts an empty current file. The
// current file is closed before it is renamed, so a reader that finds a
// new file at path knows the old one is complete. w.mu is held.
func (w *Writer) rotate() error {
	if err := w.bw.Flush(); err != nil {
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	if w.maxFiles == 1 {
		if err := os.Truncate(w.path, 0); err != nil {
			return err
		}
		return w.open()
	}
	for i := w.maxFiles - 1; i > 1; i-- {
		if err := os.Rename(rotated(w.path, i-1), rotated(w.path, i)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(w.path, rotated(w.path, 1)); err != nil {
		return err
	}
	return w.open()
}

func rotated(path string, i int) string { return path + "." + strconv.Itoa(i) }

// Files returns the log files of path that exist, oldest first: the
// rotated ones (path.N ... path.1), then path itself.
func Files(path string) []string {
	var files []string
	for i := 1; ; i++ {
		if _, err := os.Lstat(rotated(path, i)); err != nil {
			break
		}
		files = append([]string{rotated(path, i)}, files...)
	}
	return append(files, path)
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.bw.Flush(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}

// LineSplitter cuts a byte stream into log records: at each newline, and
// at maxLine bytes for long lines. Emit is called for every record.
type LineSplitter struct {
	buf  []byte
	Emit func(line []byte)
}

// Write implements io.Writer.
func (s *LineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.buf = append(s.buf, p...)
			for len(s.buf) >= maxLine {
				s.Emit(s.buf[:maxLine])
				s.buf = append(s.buf[:0], s.buf[maxLine:]...)
			}
			break
		}
		s.buf = append(s.buf, p[:i+1]...)
		s.Emit(s.buf)
		s.buf = s.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// Flush emits a pending partial line.
func (s *LineSplitter) Flush() {
	if len(s.buf) > 0 {
		s.Emit(s.buf)
		s.buf = s.buf[:0]
	}
}

// ReadOptions select records.
type ReadOptions struct {
	Tail   int // -1 for all
	Since  time.Time
	Until  time.Time
	Follow bool
	// Done tells a follower when no more records will come (the container
	// stopped). It is checked when the reader reaches the end of the file.
	Done func() bool
}

// Reader is a log opened for reading: its files (rotated ones first,
// oldest first) are held open from OpenReader on, so a reader still sees
// every record when the container is removed before it gets to read.
type Reader struct {
	path  string
	files []*os.File
}

// OpenReader opens the log at path and its rotated files. A missing file
// is an empty log.
func OpenReader(path string) (*Reader, error) {
	r := &Reader{path: path}
	for _, p := range Files(path) {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			r.Close()
			return nil, err
		}
		r.files = append(r.files, f)
	}
	return r, nil
}

// Close closes the files Read has not consumed.
func (r *Reader) Close() {
	for _, f := range r.files {
		f.Close()
	}
	r.files = nil
}

// Read sends the selected records to out until the end, or with Follow
// until Done reports true or ctx ends; a follower goes on in the new file
// when the writer rotates. It consumes the reader: Read once.
func (r *Reader) Read(ctx context.Context, opts ReadOptions, out func(Entry) error) error {
	defer r.Close()
	skip := 0
	if opts.Tail >= 0 {
		total := 0
		for _, f := range r.files {
			n, err := countLines(f)
			if err != nil {
				return err
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			total += n
		}
		skip = max(total-opts.Tail, 0)
	}
	files := r.files
	r.files = nil
	for i, f := range files {
		last := i == len(files)-1
		done, err := readFile(ctx, f, r.path, &skip, opts, last && opts.Follow, out)
		if err != nil || done {
			for _, rest := range files[i+1:] {
				rest.Close()
			}
			return err
		}
	}
	return nil
}

// Read opens the log at path and reads it (see Reader.Read).
func Read(ctx context.Context, path string, opts ReadOptions, out func(Entry) error) error {
	r, err := OpenReader(path)
	if err != nil {
		return err
	}
	return r.Read(ctx, opts, out)
}

// readFile sends the records of f; follow waits for more at its end. It
// reports true when the reader must stop (Until passed). It closes f.
func readFile(ctx context.Context, f *os.File, path string, skip *int, opts ReadOptions, follow bool, out func(Entry) error) (bool, error) {
	defer func() { f.Close() }()
	r := bufio.NewReaderSize(f, 64*1024)
	var pending []byte
	for {
		chunk, err := r.ReadBytes('\n')
		pending = append(pending, chunk...)
		if err == nil {
			line := pending
			pending = nil
			if *skip > 0 {
				*skip--
				continue
			}
			var e Entry
			if json.Unmarshal(line, &e) != nil {
				continue
			}
			if !opts.Since.IsZero() && e.Time.Before(opts.Since) {
				continue
			}
			if !opts.Until.IsZero() && e.Time.After(opts.Until) {
				return true, nil
			}
			if err := out(e); err != nil {
				return true, err
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return true, err
		}
		if !follow {
			return false, nil
		}
		if len(pending) == 0 && rotatedAway(f, path) {
			// The writer closed this file before it renamed it: it is
			// complete; go on in the new one.
			nf, err := os.Open(path)
			if err != nil {
				return true, err
			}
			f.Close()
			f = nf
			r = bufio.NewReaderSize(f, 64*1024)
			continue
		}
		if len(pending) == 0 && truncated(f) {
			// Rotation with one file truncates it: read from the start.
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return true, err
			}
			r.Reset(f)
			continue
		}
		if opts.Done != nil && opts.Done() && len(pending) == 0 {
			// One last read: the writer may have flushed between our EOF
			// and Done turning true.
			if more, _ := r.Peek(1); len(more) == 0 {
				return true, nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return true, nil
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// rotatedAway reports whether path now names another file than f.
func rotatedAway(f *os.File, path string) bool {
	cur, err := os.Stat(path)
	if err != nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && !os.SameFile(cur, st)
}

// truncated reports whether f is now shorter than what was read of it.
func truncated(f *os.File) bool {
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Size() < pos
}

func countLines(f *os.File) (int, error) {
	buf := make([]byte, 64*1024)
	n := 0
	for {
		c, err := f.Read(buf)
		n += bytes.Count(buf[:c], []byte{'\n'})
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
