// Package shimclient is the daemon's side of a container's shim: it spawns
// the shim process (package shim) and talks to it over its unix socket.
package shimclient
