// Package shim is the per-container supervisor process (`berthd shim DIR`).
//
// The daemon starts one shim per container start (see package shimclient).
// The shim runs in a mount namespace of its own: there it mounts the
// container's rootfs and every tmpfs (with copy-up), so no container mount
// ever appears in the host's mount table, and all of them vanish with the
// shim. It runs the runtime's create/start/kill/delete, holds the
// container's stdio, writes the log, reaps the exit status and records it,
// and keeps running when the daemon stops. It serves the daemon over HTTP
// on a unix socket; the wire types are in config.go.
package shim
