package integration

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-project/berth/integration/internal/container"
	cerrdefs "github.com/containerd/errdefs"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestHostileTmpfsSizeLimit checks that --max-tmpfs-size holds for every
// spelling of a tmpfs size: the kernel takes the last of size= and
// nr_blocks= (pages; 0 is unlimited), so nr_blocks=0, nr_blocks=1g, size=0
// and a share of memory are refused at create with a 400 that names the
// option and the limit, from the CLI and from the API's Tmpfs and
// TmpfsOptions.Options alike, and leave nothing behind.
func TestHostileTmpfsSizeLimit(t *testing.T) {
	d := harness.NewWithImage(t, harness.WithArgs("--max-tmpfs-size", "16m"))
	before := d.Snapshot(t)
	limit := []string{"16m", "--max-tmpfs-size"}
	tfRunBadCLI(t, d, []tfBadCLI{
		{"nr_blocks=0", []string{"--tmpfs", "/t:nr_blocks=0"}, append([]string{"nr_blocks=0 means no size limit"}, limit...)},
		{"nr_blocks=1g", []string{"--tmpfs", "/t:nr_blocks=1g"}, append([]string{"nr_blocks=1g is larger"}, limit...)},
		{"size=50%", []string{"--tmpfs", "/t:size=50%"}, append([]string{"size=50% is a share of memory"}, limit...)},
		{"size=0", []string{"--tmpfs", "/t:size=0"}, append([]string{"size=0 means no size limit"}, limit...)},
		{"nr_blocks-after-size", []string{"--tmpfs", "/t:size=1m,nr_blocks=0"}, append([]string{"nr_blocks=0 means no size limit"}, limit...)},
		{"mount-size-above", []string{"--mount", "type=tmpfs,dst=/t,tmpfs-size=17m"}, limit},
	})
	apiOptions := func(size int64, opts ...[]string) map[string]any {
		return map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/t",
			"TmpfsOptions": map[string]any{"SizeBytes": size, "Options": opts}}}}
	}
	tfRunBadAPI(t, d, []tfBadAPI{
		{"tmpfs-nr_blocks=0", map[string]any{"Tmpfs": map[string]string{"/t": "nr_blocks=0"}}, nil, "nr_blocks=0 means no size limit, but this daemon allows at most 16m"},
		{"tmpfs-nr_blocks=1g", map[string]any{"Tmpfs": map[string]string{"/t": "nr_blocks=1g"}}, nil, "nr_blocks=1g is larger than this daemon's limit of 16m"},
		{"tmpfs-size=50%", map[string]any{"Tmpfs": map[string]string{"/t": "size=50%"}}, nil, "size=50% is a share of memory"},
		{"options-nr_blocks=0", apiOptions(0, []string{"nr_blocks", "0"}), nil, "nr_blocks=0 means no size limit"},
		{"options-nr_blocks=0-over-SizeBytes", apiOptions(1<<20, []string{"nr_blocks", "0"}), nil, "nr_blocks=0 means no size limit"},
		{"options-nr_blocks=1g", apiOptions(0, []string{"nr_blocks", "1g"}), nil, "nr_blocks=1g is larger than this daemon's limit of 16m"},
		{"options-size=50%", apiOptions(1<<20, []string{"size", "50%"}), nil, "size=50% is a share of memory"},
		{"options-size=0", apiOptions(0, []string{"size", "0"}), nil, "size=0 means no size limit"},
		{"SizeBytes-above", apiOptions(17 << 20), nil, "size=17825792 is larger than this daemon's limit of 16m"},
	})
	d.AssertUnchanged(t, before, "after the refused sizes")

	// Within the limit, nr_blocks= counts pages: the kernel shows the size.
	pages := strconv.Itoa((16 << 20) / os.Getpagesize())
	kv := tfRunScript(t, d, "runc", []string{"--tmpfs", "/t:nr_blocks=" + pages, "--tmpfs", "/u:nr_blocks=0,size=8m"},
		`awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts`)
	tfCheck(t, kv, []tfWant{{Key: "mnt_/t", Contains: "size=16384k"}, {Key: "mnt_/u", Contains: "size=8192k"}})
}

// TestHostileTmpfsKernelPaths checks that a tmpfs on /proc, /sys (or below
// them) or /dev is refused at create with a 400 that says why, instead of a
// container that fails at every start.
func TestHostileTmpfsKernelPaths(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.Snapshot(t)
	var cli []tfBadCLI
	var api []tfBadAPI
	for _, p := range []string{"/proc", "/proc/sys", "/proc/sys/kernel/", "/sys", "/sys/fs/cgroup"} {
		want := "tmpfs on " + strings.TrimSuffix(p, "/") + " is not allowed"
		cli = append(cli, tfBadCLI{"tmpfs" + p, []string{"--tmpfs", p}, []string{want}},
			tfBadCLI{"mount" + p, []string{"--mount", "type=tmpfs,dst=" + p}, []string{want}})
		api = append(api, tfBadAPI{"tmpfs" + p, map[string]any{"Tmpfs": map[string]string{p: ""}}, nil, want},
			tfBadAPI{"mount" + p, map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Target": p}}}, nil, want})
	}
	devWant := "tmpfs on /dev is not supported by berth"
	cli = append(cli, tfBadCLI{"tmpfs/dev", []string{"--tmpfs", "/dev:size=1m"}, []string{devWant, "/dev/shm"}})
	api = append(api, tfBadAPI{"mount/dev", map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/dev/"}}}, nil, devWant})
	tfRunBadCLI(t, d, cli)
	tfRunBadAPI(t, d, api)
	d.AssertUnchanged(t, before, "after the refused kernel paths")

	// Below /dev and beside /proc is fine.
	kv := tfRunScript(t, d, "runc", []string{"--tmpfs", "/dev/shm:size=2m", "--tmpfs", "/process"},
		`awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts; echo "null=$(w /dev/null)"`)
	tfCheck(t, kv, []tfWant{{Key: "mnt_/dev/shm", Contains: "size=2048k"}, {Key: "mnt_/process", Contains: "tmpfs rw,"}, {Key: "null", Equal: "ok"}})
}

// TestHostileTmpfsSymlinkTarget checks that a tmpfs destination that is a
// symbolic link in the image to a host path (absolute, or relative and
// climbing out of the root) is refused at create, and that a destination
// below a link that leads somewhere in the image is mounted inside the
// container, never on the host.
func TestHostileTmpfsSymlinkTarget(t *testing.T) {
	d := harness.NewWithImage(t)
	host := t.TempDir()
	tfBuildImage(t, d, "tfhostile", nil, []harness.TarEntry{
		{Name: "abs", Type: tar.TypeSymlink, Link: host},
		{Name: "rel", Type: tar.TypeSymlink, Link: "../../../../../.." + host},
		{Name: "intmp", Type: tar.TypeSymlink, Link: "/tmp"},
	})
	before := d.Snapshot(t)
	for _, p := range []string{"/abs", "/rel"} {
		d.Fails(t, 125, []string{"tmpfs destination " + p + " is a symbolic link in the image"},
			"create", "--network", "none", "--tmpfs", p, "tfhostile", "true")
		_, err := container.TryCreate(context.Background(), d.Client(t), container.WithImage("tfhostile"), container.WithTmpfsMount(p, nil))
		assert.Check(t, cerrdefs.IsInvalidArgument(err), "%v", err)
		assert.ErrorContains(t, err, p+" is a symbolic link in the image")
		d.Fails(t, 125, []string{p + " is a symbolic link in the image to a path that does not exist"},
			"create", "--network", "none", "--tmpfs", p+"/sub", "tfhostile", "true")
	}
	d.AssertUnchanged(t, before, "after the refused symlink destinations")

	// /intmp -> /tmp exists in the image: the tmpfs lands on the
	// container's /tmp/sub.
	name := "berth-hostile-" + strconv.Itoa(os.Getpid())
	kv := tfRunScriptIn(t, d, "runc", "tfhostile", []string{"--read-only", "--tmpfs", "/intmp/" + name},
		`awk '{print "mnt_" $2 "=" $3}' /proc/mounts; echo "w=$(w /intmp/`+name+`/f)"`)
	tfCheck(t, kv, []tfWant{{Key: "mnt_/tmp/" + name, Equal: "tmpfs"}, {Key: "w", Equal: "ok"}})
	entries, err := os.ReadDir(host)
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 0, "something was created in the host directory the links point to")
	_, err = os.Lstat(filepath.Join("/tmp", name))
	assert.Assert(t, os.IsNotExist(err), "the tmpfs mount point reached the host's /tmp")
}
