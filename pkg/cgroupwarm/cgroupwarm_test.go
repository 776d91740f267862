package cgroupwarm

import (
	"reflect"
	"testing"
)

func TestCgroupProcsFiles(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		{"hybrid", "10:hugetlb:/\n9:name=systemd:/a\n2:cpu,cpuacct:/b\n0::/\n", []string{
			"/r/cgroup.procs", "/r/unified/cgroup.procs",
			"/r/hugetlb/cgroup.procs", "/r/systemd/a/cgroup.procs", "/r/cpu,cpuacct/b/cgroup.procs",
		}},
		{"unified", "0::/system.slice/berthd.service\n", []string{
			"/r/system.slice/berthd.service/cgroup.procs", "/r/unified/system.slice/berthd.service/cgroup.procs",
		}},
		{"garbage", "x\n1:cpu\n3::/\n", nil},
	} {
		if got := cgroupProcsFiles(tc.content, "/r"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
