package shimclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// serve answers on a unix socket in a temporary directory with h and
// returns a client of it.
func serve(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	assert.NilError(t, err)
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return newClient(filepath.Dir(sock), sock)
}

func TestWait(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/wait":
			<-release
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"code":3,"exitedAt":"2026-01-02T03:04:05Z","oomKilled":true}`))
		default:
			http.NotFound(w, r)
		}
	})
	close(release)
	e, err := c.Wait(context.Background())
	assert.NilError(t, err)
	assert.Check(t, is.Equal(e.Code, 3))
	assert.Check(t, is.Equal(e.ExitedAt, "2026-01-02T03:04:05Z"))
	assert.Check(t, e.OOMKilled)
}

func TestWaitError(t *testing.T) {
	t.Parallel()
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"message":"no exit for you"}`))
	})
	_, err := c.Wait(context.Background())
	assert.Error(t, err, "no exit for you")
}

// A cancelled Wait returns the context's error, and its request ends on
// the shim's side too (its connection is closed).
func TestWaitCancel(t *testing.T) {
	t.Parallel()
	started, ended := make(chan struct{}), make(chan struct{})
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		close(ended)
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Wait(ctx)
		errc <- err
	}()
	<-started
	cancel()
	err := <-errc
	assert.Check(t, errors.Is(err, context.Canceled), "%v", err)
	<-ended
}

func TestWaitNoShim(t *testing.T) {
	t.Parallel()
	c := newClient(t.TempDir(), filepath.Join(t.TempDir(), "none"))
	_, err := c.Wait(context.Background())
	assert.ErrorContains(t, err, "shim: ")
}

// Every Client's requests go through one shared transport, yet each reaches
// its own shim's socket, also when many run at once.
func TestRequestsReachOwnShim(t *testing.T) {
	t.Parallel()
	var clients []*Client
	for i := range 3 {
		pid := 100 + i
		clients = append(clients, serve(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"pid":` + strconv.Itoa(pid) + `}`))
		}))
	}
	errc := make(chan error, 60)
	for range 20 {
		for i, c := range clients {
			go func() {
				st, err := c.State(context.Background())
				if err == nil && st.Pid != 100+i {
					err = errors.New("client " + strconv.Itoa(i) + " got the state of pid " + strconv.Itoa(st.Pid))
				}
				errc <- err
			}()
		}
	}
	for range 60 {
		assert.NilError(t, <-errc)
	}
}
