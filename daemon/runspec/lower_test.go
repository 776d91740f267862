package runspec

import (
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/container"
)

func TestLowerMount(t *testing.T) {
	t.Parallel()
	bind := func(dst string) container.Mount {
		return container.Mount{Type: container.MountBind, Destination: dst, Source: "/host" + dst}
	}
	tmpfs := func(dst string) container.Mount {
		return container.Mount{Type: container.MountTmpfs, Destination: dst, Tmpfs: &container.Tmpfs{}}
	}
	mounts := []container.Mount{bind("/data"), tmpfs("/data/cache"), bind("/data/cache/deep"), tmpfs("/run"), bind("/database")}
	tests := []struct {
		dest string
		want string // destination of the lower mount, "" for the rootfs
	}{
		{"/data/cache", "/data"},
		{"/data/cache/x", "/data"}, // through the tmpfs /data/cache
		{"/data/cache/deep/x", "/data/cache/deep"},
		{"/data", ""}, // a mount is not its own lower
		{"/run/app", ""},
		{"/databases", ""},
		{"/database/x", "/database"},
	}
	for _, tc := range tests {
		m, ok := lowerMount(mounts, tc.dest)
		if tc.want == "" {
			assert.Assert(t, !ok, "%s: got %s", tc.dest, m.Destination)
			continue
		}
		assert.Assert(t, ok, tc.dest)
		assert.Equal(t, m.Destination, tc.want, tc.dest)
	}
	assert.Assert(t, pathHolds("/", "/x"))
	assert.Assert(t, !pathHolds("/", "/"))
}
