package command

import (
	"golang.org/x/sys/unix"
)

// IsTerminal reports whether fd refers to a terminal.
func IsTerminal(fd uintptr) bool {
	_, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	return err == nil
}

// TermState is a terminal's saved state, restored by Restore.
type TermState struct {
	fd      int
	termios unix.Termios
}

// MakeRaw puts the terminal fd into raw mode (no echo, no line editing, no
// signal keys; output processing kept) and returns the previous state.
func MakeRaw(fd uintptr) (*TermState, error) {
	t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	if err != nil {
		return nil, err
	}
	old := &TermState{fd: int(fd), termios: *t}
	raw := *t
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(int(fd), unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return old, nil
}

// Restore puts the terminal back into the saved state.
func (s *TermState) Restore() error {
	if s == nil {
		return nil
	}
	return unix.IoctlSetTermios(s.fd, unix.TCSETS, &s.termios)
}

// TermSize returns the height and width of the terminal fd.
func TermSize(fd uintptr) (height, width uint, err error) {
	ws, err := unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0, err
	}
	return uint(ws.Row), uint(ws.Col), nil
}
