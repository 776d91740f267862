package daemon

import (
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/container"
)

func TestVolumeMountAttributes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		m    container.Mount
		want map[string]string
	}{
		{
			name: "read-write",
			m:    container.Mount{Type: container.MountVolume, VolumeName: "data", Destination: "/data"},
			want: map[string]string{"container": "c1", "destination": "/data", "read/write": "true", "propagation": ""},
		},
		{
			name: "read-only with propagation",
			m:    container.Mount{Type: container.MountVolume, VolumeName: "data", Destination: "/v", ReadOnly: true, Propagation: "rshared"},
			want: map[string]string{"container": "c1", "destination": "/v", "read/write": "false", "propagation": "rshared"},
		},
	} {
		assert.DeepEqual(t, volumeMountAttributes("c1", tc.m), tc.want)
	}
}

func TestVolumeMounts(t *testing.T) {
	t.Parallel()
	mounts := []container.Mount{
		{Type: container.MountBind, Source: "/srv", Destination: "/srv"},
		{Type: container.MountVolume, VolumeName: "b", Destination: "/b"},
		{Type: container.MountTmpfs, Destination: "/run"},
		{Type: container.MountVolume, Destination: "/unnamed"},
		{Type: container.MountVolume, VolumeName: "a", Destination: "/a"},
	}
	var names []string
	for _, m := range volumeMounts(mounts) {
		names = append(names, m.VolumeName)
	}
	assert.DeepEqual(t, names, []string{"b", "a"})
}
