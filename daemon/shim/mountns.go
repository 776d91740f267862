package shim

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// becomeSlave makes the shim's mount namespace a slave of the one it was
// copied from, before the shim mounts anything: the copy's mounts are
// still peers of the host's shared mounts, so a mount made before this
// would appear on the host. It refuses to run in the mount namespace of
// its parent (a shim started by hand, not by the daemon's clone): making
// the host's mounts slaves would cut the host's own propagation.
func becomeSlave(parent int) error {
	var own, theirs unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &own); err != nil {
		return fmt.Errorf("own mount namespace: %w", err)
	}
	err := unix.Stat("/proc/"+strconv.Itoa(parent)+"/ns/mnt", &theirs)
	switch {
	case err == nil && own.Ino == theirs.Ino && own.Dev == theirs.Dev:
		return errors.New("the shim must run in a mount namespace of its own, not its parent's")
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("parent's mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make the mount namespace a slave of the host's: %w", err)
	}
	return nil
}
