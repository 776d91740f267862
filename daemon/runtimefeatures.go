package daemon

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"time"
)

// runtimeHasRRO reports whether the OCI runtime at path takes the "rro"
// mount option, from its `features` subcommand, as Docker decides; a
// runtime without that subcommand (crun before 1.9) counts as one that
// cannot. The answer is cached per path.
func (d *Daemon) runtimeHasRRO(path string) bool {
	if v, ok := d.rroCache.Load(path); ok {
		return v.(bool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok := false
	out, err := exec.CommandContext(ctx, path, "features").Output()
	if err == nil {
		var f struct {
			MountOptions []string `json:"mountOptions"`
		}
		ok = json.Unmarshal(out, &f) == nil && slices.Contains(f.MountOptions, "rro")
	} else {
		d.log.Debug("runtime features", "runtime", path, "err", err)
	}
	d.rroCache.Store(path, ok)
	return ok
}
