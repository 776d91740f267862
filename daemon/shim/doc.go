// Package shim is the per-container supervisor process (`berth-shim shim
// DIR`, or `berthd shim DIR`).
//
// The daemon starts one shim per container start (see package shimclient).
// The shim runs in a mount namespace of its own: there it mounts the
// container's rootfs and every tmpfs (with copy-up, mounts.go), so no
// container mount ever appears in the host's mount table, and all of them
// vanish with the shim. It has the runtime start the container's process
// (`run --detach`) and exec processes, holds their stdio (stdio.go), writes
// the log, reaps the exit status and records it, and keeps running when
// the daemon stops. The container's life in the shim is one state machine
// (state.go).
//
// It serves the daemon over HTTP on a unix socket (server.go, exec.go);
// the wire types are in config.go and exec.go.
package shim
