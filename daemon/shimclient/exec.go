package shimclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/berth-project/berth/daemon/shim"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Exec starts proc in the container under the id eid. Unless opts.Detach,
// the returned connection carries the process's output (framed unless it
// has a terminal) and takes its input; it closes when the process has
// exited.
func (s *Client) Exec(ctx context.Context, eid string, proc *specs.Process, opts shim.ExecOptions) (net.Conn, *bufio.Reader, error) {
	body, err := json.Marshal(proc)
	if err != nil {
		return nil, nil, err
	}
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	q := url.Values{"stdin": {b(opts.Stdin)}, "stdout": {b(opts.Stdout)}, "stderr": {b(opts.Stderr)}, "detach": {b(opts.Detach)}}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", s.socket)
	if err != nil {
		return nil, nil, fmt.Errorf("shim: %w", err)
	}
	req := fmt.Sprintf("POST /exec/%s?%s HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", url.PathEscape(eid), q.Encode(), len(body))
	if _, err := io.WriteString(conn, req+string(body)); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("shim exec: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer conn.Close()
		var e struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if e.Message == "" {
			e.Message = resp.Status
		}
		return nil, nil, errors.New(e.Message)
	}
	if opts.Detach {
		conn.Close()
		return nil, nil, nil
	}
	return conn, br, nil
}

// ExecState asks the shim about an exec process.
func (s *Client) ExecState(ctx context.Context, eid string) (shim.ExecState, error) {
	var st shim.ExecState
	err := s.do(ctx, "GET", "/exec/"+url.PathEscape(eid), nil, &st)
	return st, err
}

// ExecWait blocks until the exec process has exited and returns its state.
func (s *Client) ExecWait(ctx context.Context, eid string) (shim.ExecState, error) {
	var st shim.ExecState
	err := s.do(ctx, "GET", "/exec/"+url.PathEscape(eid)+"/wait", nil, &st)
	return st, err
}

// ExecResize sets the terminal size of an exec process.
func (s *Client) ExecResize(ctx context.Context, eid string, h, w uint) error {
	return s.do(ctx, "POST", "/exec/"+url.PathEscape(eid)+"/resize", url.Values{"h": {fmt.Sprint(h)}, "w": {fmt.Sprint(w)}}, nil)
}
