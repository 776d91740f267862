package daemon

import (
	"os"
	"path/filepath"
)

// shimBinary returns the program that supervises containers: berth-shim
// in berthd's directory, which starts faster than berthd; else berthd
// itself (`berthd shim` is the same supervisor), with a warning.
func (d *Daemon) shimBinary() string {
	p := filepath.Join(filepath.Dir(d.self), "berth-shim")
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return p
	}
	d.log.Warn("no berth-shim next to berthd: shims run as `berthd shim`, which starts slower", "looked-for", p)
	return d.self
}
