package httputils

import (
	"encoding/binary"
	"io"
)

// StdType is the stream byte of a multiplexed frame.
type StdType byte

// Stream bytes of the multiplexed stream format.
const (
	Stdin     StdType = 0
	Stdout    StdType = 1
	Stderr    StdType = 2
	Systemerr StdType = 3
)

const stdHeaderLen = 8

// stdWriter frames every Write as one multiplexed frame: the stream byte,
// three zero bytes, the payload length as a big-endian uint32, the payload.
type stdWriter struct {
	w      io.Writer
	stream StdType
}

// NewStdWriter returns a writer that frames each Write for stream t in
// Docker's multiplexed format (application/vnd.docker.multiplexed-stream).
// Header and payload go to w in a single Write, so writers for different
// streams may share a goroutine-safe w such as a net.Conn.
func NewStdWriter(w io.Writer, t StdType) io.Writer {
	return &stdWriter{w: w, stream: t}
}

func (s *stdWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	buf := make([]byte, stdHeaderLen+len(p))
	buf[0] = byte(s.stream)
	binary.BigEndian.PutUint32(buf[4:stdHeaderLen], uint32(len(p)))
	copy(buf[stdHeaderLen:], p)
	n, err := s.w.Write(buf)
	n -= stdHeaderLen
	if n < 0 {
		n = 0
	}
	return n, err
}
