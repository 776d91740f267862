// Package opts parses the values of berth's command-line flags (--tmpfs,
// --mount, --env-file, --label, --shm-size, --restart, --filter, ...) into the
// wire types of the Engine API. Every parser is a pure function; the flag
// types wrap them as pflag.Value so errors surface as flag errors.
package opts
