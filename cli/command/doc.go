// Package command holds what every berth command shares: the Cli (streams
// and a lazily created Engine API client), the root cobra command with its
// global flags, the errors that carry an exit status, and the shape of the
// commands Docker repeats (ListCommand, PruneCommand, ForEach). The commands
// themselves live in the sub-packages container, image, volume and system.
package command
