package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/moby/moby/api/types"
	"github.com/moby/moby/client/pkg/versions"
)

// drainTimeout bounds how long an ended attach session waits for the client
// to close its side, so that closing the connection does not reset it while
// the client still reads the last output.
const drainTimeout = 2 * time.Second

// replayPause separates the upgraded response's head from the log replay of
// a non-streaming attach. docker-py reads the hijacked socket beneath
// http.client's buffer, so output that arrives with the head is lost to it
// (attach(logs=True, stream=False) returned b""); dockerd's log reader
// takes about as long to start.
const replayPause = 20 * time.Millisecond

// postContainerAttach hijacks the connection: the client's stdin comes in,
// the container's output goes out, multiplexed unless the container has a
// TTY. The backend decides when the session ends.
func (s *Server) postContainerAttach(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	ctx, cancel := s.streamContext(r.Context())
	defer cancel()

	sess := &attachSession{
		w:       w,
		upgrade: r.Header.Get("Upgrade") != "",
		muxType: versions.GreaterThanOrEqualTo(httputils.VersionFromContext(r.Context()), "1.42"),
		useIn:   httputils.BoolValue(r, "stdin"),
		ctx:     ctx,
		cancel:  cancel,
		log:     s.log.With(slog.String("container", name)),
	}
	stream, logs := httputils.BoolValue(r, "stream"), httputils.BoolValue(r, "logs")
	getStreams := sess.getStreams
	if sess.upgrade && logs && !stream {
		getStreams = func(tty bool) (AttachStreams, error) {
			streams, err := sess.getStreams(tty)
			if err == nil {
				time.Sleep(replayPause)
			}
			return streams, err
		}
	}
	err := s.backend.ContainerAttach(ctx, name, AttachOptions{
		Stdin:      sess.useIn,
		Stdout:     httputils.BoolValue(r, "stdout"),
		Stderr:     httputils.BoolValue(r, "stderr"),
		Stream:     stream,
		Logs:       logs,
		DetachKeys: r.URL.Query().Get("detachKeys"),
		GetStreams: getStreams,
	})
	return sess.end(err, "attach to container "+name)
}

// end closes the session once the backend returned err. A session that
// never started (no such container, bad detach keys...) is still plain
// HTTP and carries the error; after the hijack it can only be logged.
func (sess *attachSession) end(err error, what string) error {
	if !sess.hijacked() {
		if err == nil {
			err = fmt.Errorf("%s ended before its streams were set up", what)
		}
		return err
	}
	if err != nil {
		sess.log.Debug(what+": session ended with an error", slog.Any("error", err))
	}
	sess.finish()
	return nil
}

type attachSession struct {
	w       http.ResponseWriter
	upgrade bool // the client asked for "Upgrade: tcp"
	muxType bool // API >= 1.42: announce multiplexed output in Content-Type
	useIn   bool
	ctx     context.Context // ends with the session
	cancel  context.CancelFunc
	log     *slog.Logger

	mu   sync.Mutex
	conn net.Conn
}

func (a *attachSession) hijacked() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conn != nil
}

// getStreams hijacks the connection, writes the response head and returns
// the streams of the session: raw when tty, multiplexed otherwise.
func (a *attachSession) getStreams(tty bool) (AttachStreams, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn != nil {
		return AttachStreams{}, errors.New("attach streams already taken")
	}
	conn, brw, err := http.NewResponseController(a.w).Hijack()
	if err != nil {
		return AttachStreams{}, fmt.Errorf("hijack connection for attach: %w", err)
	}
	a.conn = conn

	contentType := types.MediaTypeRawStream
	if !tty && a.muxType {
		contentType = types.MediaTypeMultiplexedStream
	}
	head := "HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\n\r\n"
	if a.upgrade {
		head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + contentType + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
	}
	if _, err := io.WriteString(conn, head); err != nil {
		return AttachStreams{}, fmt.Errorf("write attach response: %w", err)
	}

	// Input the client sent right after its request is already buffered.
	var in io.Reader = conn
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		in = io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn)
	}

	streams := AttachStreams{Stdout: conn, Stderr: conn}
	if !tty {
		streams.Stdout = httputils.NewStdWriter(conn, httputils.Stdout)
		streams.Stderr = httputils.NewStdWriter(conn, httputils.Stderr)
	}
	if a.useIn {
		streams.Stdin = &attachStdin{r: in, conn: conn}
	} else {
		// Nobody reads the connection, so watch it for the client hanging up.
		go notifyClosed(a.ctx, conn, a.cancel, a.log)
	}
	return streams, nil
}

// finish ends the session's connection: the client reads EOF after the last
// output, then the connection is closed once the client has closed its side
// or drainTimeout has passed.
func (a *attachSession) finish() {
	a.mu.Lock()
	conn := a.conn
	a.mu.Unlock()
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_ = conn.SetReadDeadline(time.Now().Add(drainTimeout))
		_, _ = io.Copy(io.Discard, conn)
	}
	_ = conn.Close()
}

// attachStdin is the client's input. Close unblocks a pending Read, so that
// the backend's copy of stdin can end with the session.
type attachStdin struct {
	r    io.Reader
	conn net.Conn
}

func (s *attachStdin) Read(p []byte) (int, error) { return s.r.Read(p) }

func (s *attachStdin) Close() error {
	return s.conn.SetReadDeadline(time.Now())
}
