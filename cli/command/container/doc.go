// Package container implements berth's container commands: run, create,
// start, stop, kill, restart, rm, ps, logs and wait.
package container
