package daemon

import (
	"context"
	"fmt"
	"strconv"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/pkg/jsonlog"
)

// ContainerLogs streams the container's json-file log.
func (d *Daemon) ContainerLogs(ctx context.Context, name string, opts backend.LogsOptions) (<-chan backend.LogMessage, bool, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, false, err
	}
	if !c.Log.Reads() {
		return nil, false, errdefs.ErrNotImplemented.WithMessage("configured logging driver does not support reading")
	}
	if !opts.Stdout && !opts.Stderr {
		return nil, false, fmt.Errorf("Bad parameters: you must choose at least one stream: %w", errInvalid)
	}
	tail := -1
	if opts.Tail != "" && opts.Tail != "all" {
		n, err := strconv.Atoi(opts.Tail)
		if err != nil || n < 0 {
			tail = -1
		} else {
			tail = n
		}
	}
	c.Lock()
	tty := c.Config.Tty
	c.Unlock()
	done := func() bool {
		c.Lock()
		defer c.Unlock()
		return !c.State.IsRunning()
	}
	// Open the files before answering: a client may remove the container
	// as soon as it has the response's headers (docker-py's run does), and
	// the records must still be read.
	r, err := jsonlog.OpenReader(c.LogPath())
	if err != nil {
		return nil, false, err
	}
	out := make(chan backend.LogMessage, 64)
	go func() {
		defer close(out)
		_ = r.Read(ctx, jsonlog.ReadOptions{Tail: tail, Since: opts.Since, Until: opts.Until, Follow: opts.Follow, Done: done}, func(e jsonlog.Entry) error {
			if (e.Stream == "stdout" && !opts.Stdout) || (e.Stream == "stderr" && !opts.Stderr) {
				return nil
			}
			select {
			case out <- backend.LogMessage{Stream: e.Stream, Time: e.Time, Line: []byte(e.Log)}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return out, tty, nil
}
