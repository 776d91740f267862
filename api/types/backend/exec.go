package backend

// ExecStartOptions describe POST /exec/{id}/start.
type ExecStartOptions struct {
	Detach bool
	// ConsoleSize is the initial terminal size [height, width], if given.
	ConsoleSize *[2]uint
	// GetStreams is called once the daemon has checked the exec can start
	// and knows whether it has a TTY and reads stdin; it hijacks the
	// connection and returns the streams to use. It is not called for a
	// detached start.
	GetStreams func(tty, stdin bool) (AttachStreams, error)
}

// StatsOptions describe GET /containers/{id}/stats.
type StatsOptions struct {
	Stream  bool
	OneShot bool
}
