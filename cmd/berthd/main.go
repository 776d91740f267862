// Command berthd is Berth's daemon: it serves the Docker Engine API on a
// unix socket and runs containers through an OCI runtime. `berthd shim DIR`
// is the per-container supervisor it starts; `berthd chroot-archive` the
// helper that copies files from and into a container (docker cp).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/api/server"
	"github.com/berth-project/berth/daemon"
	"github.com/berth-project/berth/daemon/chrootarchive"
	"github.com/berth-project/berth/daemon/config"
	"github.com/berth-project/berth/daemon/shim"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "shim" {
		os.Exit(shim.Run(os.Args[2]))
	}
	if len(os.Args) >= 2 && os.Args[1] == chrootarchive.Command {
		os.Exit(chrootarchive.Main(os.Args[2:]))
	}
	cfg := config.Defaults()
	cmd := &cobra.Command{
		Use:           "berthd",
		Short:         "Berth's container engine daemon",
		Version:       daemon.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Load(cmd.Flags()); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			return run(cfg)
		},
	}
	cfg.AddFlags(cmd.Flags())
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "berthd:", err)
		os.Exit(1)
	}
}

func run(cfg config.Config) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("log level %q: %w", cfg.LogLevel, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)
	// Descriptors berthd inherited (a pipe of the shell or service manager
	// that started it) must not reach the shims, the runtimes and from
	// there the containers' supervisors: everything from 3 up closes on
	// exec. Descriptors the daemon opens itself are close-on-exec already.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark inherited descriptors close-on-exec: %w", err)
	}
	stopProfile, err := cpuProfile(os.Getenv("BERTHD_CPUPROFILE"))
	if err != nil {
		return err
	}
	defer stopProfile()

	d, err := daemon.New(cfg, logger)
	if err != nil {
		return err
	}
	defer d.Shutdown()

	sock := cfg.SocketPath()
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		return err
	}
	os.Remove(sock) // a stale socket: daemon.New checked that no daemon answers on it
	l, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o660); err != nil {
		l.Close()
		return err
	}
	srv := server.New(d, server.Options{Version: daemon.Version, Logger: logger})
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(l) }()
	logger.Info("berthd ready", "socket", sock, "data-root", cfg.DataRoot, "version", daemon.Version)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case sig := <-sigs:
		logger.Info("shutting down; containers keep running", "signal", sig.String())
	case err := <-errCh:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	os.Remove(sock)
	return nil
}

// cpuProfile writes a CPU profile of the daemon to file (pprof format) from
// now until it stops, if file is set: for bench/, off by default.
func cpuProfile(file string) (func(), error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("BERTHD_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("BERTHD_CPUPROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
