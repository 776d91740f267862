package format

import (
	"encoding/json"

	"github.com/moby/moby/api/types/volume"
)

// VolumeTableFormat is the default `volume ls` table.
const VolumeTableFormat = "table {{.Driver}}\t{{.Name}}"

// VolumeHeader holds the column titles of the volume fields.
var VolumeHeader = map[string]string{
	"Name":       "VOLUME NAME",
	"Driver":     "DRIVER",
	"Scope":      "SCOPE",
	"Mountpoint": "MOUNTPOINT",
	"Labels":     "LABELS",
	"CreatedAt":  "CREATED",
}

// Volume is the template context for one `volume ls` row.
type Volume struct {
	V volume.Volume
}

// Name is the volume name.
func (v Volume) Name() string { return v.V.Name }

// Driver is the volume driver.
func (v Volume) Driver() string { return v.V.Driver }

// Scope is "local" or "global".
func (v Volume) Scope() string { return v.V.Scope }

// Mountpoint is where the volume lives on the host.
func (v Volume) Mountpoint() string { return v.V.Mountpoint }

// CreatedAt is the creation time as the daemon reported it.
func (v Volume) CreatedAt() string { return v.V.CreatedAt }

// Labels renders the labels as "k=v,k=v", sorted.
func (v Volume) Labels() string { return joinLabels(v.V.Labels) }

// Label returns the value of one label.
func (v Volume) Label(name string) string { return v.V.Labels[name] }

// MarshalJSON renders the row for `--format json`.
func (v Volume) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"Driver": v.Driver(), "Labels": v.Labels(), "Mountpoint": v.Mountpoint(), "Name": v.Name(), "Scope": v.Scope(),
	})
}
