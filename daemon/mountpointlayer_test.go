package daemon

import (
	"reflect"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/runspec"
)

func TestMountpointEntries(t *testing.T) {
	base := []mountpointEntry{{Path: "/proc"}, {Path: "/sys"}, {Path: "/dev"}, {Path: "/etc/hosts", File: true}, {Path: "/etc/hostname", File: true}, {Path: "/etc/resolv.conf", File: true}}
	isFile := func(src string) bool { return src == "/host/file" }
	for _, tc := range []struct {
		name string
		c    *container.Container
		want []mountpointEntry
	}{
		{"none", &container.Container{Config: &containertypes.Config{}}, base},
		{"init", &container.Container{Init: true, Config: &containertypes.Config{}}, append(append([]mountpointEntry{}, base...), mountpointEntry{Path: runspec.InitPath, File: true})},
		{"mounts and workdir", &container.Container{
			Config: &containertypes.Config{WorkingDir: "/w"},
			Mounts: []container.Mount{
				{Type: container.MountBind, Source: "/host/file", Destination: "/f"},
				{Type: container.MountBind, Source: "/host/dir", Destination: "/d"},
				{Type: container.MountTmpfs, Destination: "/run"},
			},
		}, append(append([]mountpointEntry{}, base...), mountpointEntry{Path: "/f", File: true}, mountpointEntry{Path: "/d"}, mountpointEntry{Path: "/run"}, mountpointEntry{Path: "/w"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mountpointEntries(tc.c, isFile); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMountpointKey(t *testing.T) {
	a := []mountpointEntry{{Path: "/a"}, {Path: "/b", File: true}}
	for _, tc := range []struct {
		name string
		b    []mountpointEntry
		same bool
	}{
		{"same list", []mountpointEntry{{Path: "/a"}, {Path: "/b", File: true}}, true},
		{"file vs directory", []mountpointEntry{{Path: "/a"}, {Path: "/b"}}, false},
		{"other order", []mountpointEntry{{Path: "/b", File: true}, {Path: "/a"}}, false},
		{"one more", []mountpointEntry{{Path: "/a"}, {Path: "/b", File: true}, {Path: "/c"}}, false},
		{"path with a newline", []mountpointEntry{{Path: "/a\nd \"/b\""}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mountpointKey(a) == mountpointKey(tc.b); got != tc.same {
				t.Errorf("same key = %v, want %v", got, tc.same)
			}
		})
	}
}
