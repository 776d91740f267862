package container

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/moby/moby/api/pkg/stdcopy"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/cli/command"
)

// attachOptions says which streams to attach and how.
type attachOptions struct {
	stdin, stdout, stderr bool
	tty                   bool
	detachKeys            string
}

// attachment is an attach stream being copied in the background.
type attachment struct {
	// done yields the streaming error once output has ended.
	done <-chan error
	resp client.HijackedResponse
}

// close ends the stream early and waits until the terminal is restored.
func (a *attachment) close() {
	a.resp.Close()
	<-a.done
}

// attachContainer opens the attach stream (before the container starts, so
// no output is lost) and copies it in the background.
func attachContainer(ctx context.Context, cli *command.Cli, apiClient client.APIClient, id string, o attachOptions) (*attachment, error) {
	res, err := apiClient.ContainerAttach(ctx, id, client.ContainerAttachOptions{
		Stream:     true,
		Stdin:      o.stdin,
		Stdout:     o.stdout,
		Stderr:     o.stderr,
		DetachKeys: o.detachKeys,
	})
	if err != nil {
		return nil, err
	}
	errCh := make(chan error, 1)
	resp := res.HijackedResponse

	// Raw mode must be set before the container can write to the terminal.
	var restore *command.TermState
	if o.stdin && o.tty {
		if fd, isTerm := cli.InFd(); isTerm {
			if st, err := command.MakeRaw(fd); err == nil {
				restore = st
			}
		}
	}
	go func() {
		defer resp.Close()
		err := streamAttached(cli, resp, o)
		_ = restore.Restore()
		errCh <- err
	}()
	return &attachment{done: errCh, resp: resp}, nil
}

func streamAttached(cli *command.Cli, resp client.HijackedResponse, o attachOptions) error {
	outputDone := make(chan error, 1)
	go func() {
		if !o.stdout && !o.stderr {
			outputDone <- nil
			return
		}
		var err error
		if o.tty {
			_, err = io.Copy(cli.Out, resp.Reader)
		} else {
			_, err = stdcopy.StdCopy(cli.Out, cli.Err, resp.Reader)
		}
		outputDone <- err
	}()

	inputDone := make(chan struct{})
	if o.stdin {
		go func() {
			_, _ = io.Copy(resp.Conn, cli.In)
			_ = resp.CloseWrite()
			close(inputDone)
		}()
	}

	select {
	case err := <-outputDone:
		return err
	case <-inputDone:
		// Input is exhausted; keep printing what the container still writes.
		if o.stdout || o.stderr {
			return <-outputDone
		}
		return nil
	}
}

// waitExitOrRemoved registers a wait before the container starts and
// delivers its exit status. With autoRemove it waits for the removal the
// daemon performs, so the command returns only once the container is gone.
func waitExitOrRemoved(ctx context.Context, cli *command.Cli, apiClient client.APIClient, id string, autoRemove bool) <-chan int {
	cond := containertypes.WaitConditionNextExit
	if autoRemove {
		cond = containertypes.WaitConditionRemoved
	}
	res := apiClient.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: cond})
	statusCh := make(chan int, 1)
	go func() {
		select {
		case r := <-res.Result:
			if r.Error != nil && r.Error.Message != "" {
				_, _ = fmt.Fprintf(cli.Err, "Error waiting for container: %s\n", r.Error.Message)
				statusCh <- 125
				return
			}
			statusCh <- int(r.StatusCode)
		case err := <-res.Error:
			_, _ = fmt.Fprintf(cli.Err, "Error waiting for container: %s\n", command.ErrorText(err))
			statusCh <- 125
		}
	}()
	return statusCh
}

// resizeTTY sends the terminal's size now and on every SIGWINCH until ctx
// ends.
func resizeTTY(ctx context.Context, cli *command.Cli, apiClient client.APIClient, id string) {
	fd, isTerm := cli.OutFd()
	if !isTerm {
		return
	}
	resize := func() {
		h, w, err := command.TermSize(fd)
		if err != nil || h == 0 || w == 0 {
			return
		}
		_, _ = apiClient.ContainerResize(ctx, id, client.ContainerResizeOptions{Height: h, Width: w})
	}
	resize()
	sigCh := make(chan os.Signal, 1)
	signal.Notify(sigCh, unix.SIGWINCH)
	go func() {
		defer signal.Stop(sigCh)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sigCh:
				resize()
			}
		}
	}()
}

// proxySignals forwards the signals berth receives to the container until
// ctx ends.
func proxySignals(ctx context.Context, apiClient client.APIClient, id string) {
	sigCh := make(chan os.Signal, 8)
	signal.Notify(sigCh, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	go func() {
		defer signal.Stop(sigCh)
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sigCh:
				sig, ok := s.(unix.Signal)
				if !ok {
					continue
				}
				_, _ = apiClient.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: unix.SignalName(sig)})
			}
		}
	}()
}
