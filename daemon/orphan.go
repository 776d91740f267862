package daemon

import (
	"context"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/berth-project/berth/container"
)

// deleteOrphanedRun ends what the runtime still holds of a run whose shim
// is gone (killed, crashed): the container's processes would otherwise
// live on, unsupervised and invisible to the daemon, and the runtime would
// keep its state. It is harmless when the runtime knows nothing of it.
func (d *Daemon) deleteOrphanedRun(c *container.Container) {
	rt, err := d.runtimePath(c.Runtime)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	root := filepath.Join(d.runtimeRoot(), filepath.Base(rt))
	out, err := exec.CommandContext(ctx, rt, "--root", root, "delete", "--force", c.ID).CombinedOutput()
	if err != nil {
		d.log.Warn("runtime delete of a container whose shim is gone", "container", c.ID, "err", err, "output", string(out))
		return
	}
	d.log.Info("the shim of a container is gone: its processes were ended", "container", c.ID)
}
