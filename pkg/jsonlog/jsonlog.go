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

// Writer appends records to a log file; safe for concurrent streams.
type Writer struct {
	mu sync.Mutex
	f  *os.File
	bw *bufio.Writer
}

// Open opens (or creates) a log file for appending.
func Open(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	return &Writer{f: f, bw: bufio.NewWriter(f)}, nil
}

// Write records one line (or partial line) of stream.
func (w *Writer) Write(stream string, line []byte, t time.Time) error {
	data, err := json.Marshal(Entry{Log: string(line), Stream: stream, Time: t.UTC()})
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.bw.Write(append(data, '\n')); err != nil {
		return err
	}
	return w.bw.Flush()
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

// Read sends the selected records of the file at path to out until the end
// of the file, or with Follow until Done reports true or ctx ends. A missing
// file is an empty log.
func Read(ctx context.Context, path string, opts ReadOptions, out func(Entry) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()

	var skip int
	if opts.Tail >= 0 {
		total, err := countLines(f)
		if err != nil {
			return err
		}
		if total > opts.Tail {
			skip = total - opts.Tail
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	r := bufio.NewReaderSize(f, 64*1024)
	var pending []byte
	for {
		chunk, err := r.ReadBytes('\n')
		pending = append(pending, chunk...)
		if err == nil {
			line := pending
			pending = nil
			if skip > 0 {
				skip--
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
				return nil
			}
			if err := out(e); err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		if !opts.Follow {
			return nil
		}
		if opts.Done != nil && opts.Done() && len(pending) == 0 {
			// One last read: the writer may have flushed between our EOF
			// and Done turning true.
			if more, _ := r.Peek(1); len(more) == 0 {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
	}
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
