package daemon

import (
	"errors"
	"fmt"
	"os"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/shim"
	"github.com/berth-project/berth/pkg/bindprop"
)

// checkPropagationSources checks, as Docker does, that the host source of
// each bind or volume whose propagation mode needs it is on a shared
// mount (shared, rshared) or a shared or slave one (slave, rslave): from
// a private mount, nothing would propagate. Create checks (a 400, with
// the sources that exist then) and start checks again, since the host's
// mounts may have changed in between; a source that does not exist yet is
// for the start (which creates a missing -v source) when atCreate.
func checkPropagationSources(mounts []container.Mount, volumePath func(string) string, atCreate bool) error {
	for _, m := range mounts {
		need := bindprop.Required(m.Propagation)
		if need == bindprop.NeedNothing || m.Type == container.MountTmpfs {
			continue
		}
		src := m.Source
		if m.Type == container.MountVolume {
			src = volumePath(m.VolumeName)
		}
		f, err := bindprop.Open(src)
		if atCreate && errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		err = bindprop.CheckSource(f, src, need)
		f.Close()
		if err != nil {
			if atCreate {
				return fmt.Errorf("%w: %w", err, errInvalid)
			}
			return err
		}
	}
	return nil
}

// cloneSharedBinds clones, in the daemon's (the host's) mount namespace,
// the mount tree of the source of each of binds, for the shim to attach:
// the clones are peers of the host's mounts, which a bind made in the
// shim's namespace could not be. It checks the source's mount again on
// the handle it clones. On error, nothing is left open.
func cloneSharedBinds(binds []shim.SharedBind) (trees []*os.File, retErr error) {
	defer func() {
		if retErr != nil {
			closeAll(trees)
			trees = nil
		}
	}()
	for _, b := range binds {
		src, err := bindprop.Open(b.Source)
		if err != nil {
			return trees, err
		}
		err = bindprop.CheckSource(src, b.Source, bindprop.NeedShared)
		var tree *os.File
		if err == nil {
			tree, err = bindprop.Clone(src, b.Recursive)
		}
		src.Close()
		if err != nil {
			return trees, err
		}
		trees = append(trees, tree)
	}
	return trees, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
