package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// notifyClosed calls hangup when the client closes conn completely (EPOLLHUP,
// which a unix socket reports once the peer is gone; a half-close for
// "no more input" does not trigger it). It returns when ctx is done.
func notifyClosed(ctx context.Context, conn net.Conn, hangup func(), log *slog.Logger) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	// Watch a duplicate of the socket, so that the connection can be closed
	// while this goroutine is waiting.
	fd := -1
	ctrlErr := rc.Control(func(f uintptr) {
		fd, err = unix.Dup(int(f))
	})
	if ctrlErr != nil || err != nil {
		log.Debug("cannot watch attach connection", slog.Any("error", errors.Join(ctrlErr, err)))
		return
	}
	defer unix.Close(fd)

	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		log.Debug("cannot watch attach connection", slog.Any("error", err))
		return
	}
	defer unix.Close(ep)
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLHUP, Fd: int32(fd)}); err != nil {
		log.Debug("cannot watch attach connection", slog.Any("error", err))
		return
	}
	events := make([]unix.EpollEvent, 1)
	for ctx.Err() == nil {
		n, err := unix.EpollWait(ep, events, 250)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if n > 0 && events[0].Events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			hangup()
			return
		}
	}
}
