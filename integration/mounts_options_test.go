package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/container"
	"github.com/berth-project/berth/integration/internal/harness"
)

// hostTreeWithSubmount makes a host directory with a tmpfs mounted on its
// "sub" directory holding the file "inner": the submount that recursive,
// non-recursive and read-only binds treat differently.
func hostTreeWithSubmount(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	sub := filepath.Join(src, "sub")
	assert.NilError(t, os.Mkdir(sub, 0o755))
	assert.NilError(t, unix.Mount("tmpfs", sub, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { _ = unix.Unmount(sub, unix.MNT_DETACH) })
	assert.NilError(t, os.WriteFile(filepath.Join(sub, "inner"), []byte("x"), 0o644))
	return src
}

// TestMountBindOfReadOnlyMount: `-v SRC:/m`, where SRC is a read-only
// bind mount on the host, is read-only in the container, as under
// Docker and runc, on both runtimes (crun remounts a bind with its
// options, and asked for "rw" it made the host's read-only mount
// writable through the container); a writable submount of it stays
// writable, as under runc.
func TestMountBindOfReadOnlyMount(t *testing.T) {
	d := harness.NewWithImage(t)
	data := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(data, "f"), []byte("host"), 0o644))
	assert.NilError(t, os.Mkdir(filepath.Join(data, "sub"), 0o755))
	src := filepath.Join(t.TempDir(), "ro")
	assert.NilError(t, os.Mkdir(src, 0o755))
	assert.NilError(t, unix.Mount(data, src, "", unix.MS_BIND, ""))
	t.Cleanup(func() { _ = unix.Unmount(src, unix.MNT_DETACH) })
	assert.NilError(t, unix.Mount("", src, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""))
	assert.NilError(t, unix.Mount("tmpfs", filepath.Join(src, "sub"), "tmpfs", 0, "size=1m"), "a writable submount (sub exists in data)")
	d.ForRuntimes(t, func(t *testing.T, rt string) {
		res := d.Berth(t, "run", "--rm", "--runtime", rt, "--network", "none", "-v", src+":/m", "busybox",
			"sh", "-c", "echo x >/m/f; echo write=$?; cat /m/f; echo y >/m/sub/g && echo sub=ok")
		assert.Equal(t, res.ExitCode, 0, res.Combined())
		assert.Check(t, is.Contains(res.Stdout, "write=1"), "the write through the read-only mount: %s", res.Combined())
		assert.Check(t, is.Contains(res.Stdout, "host"))
		assert.Check(t, is.Contains(res.Stdout, "sub=ok"), "the writable submount: %s", res.Combined())
		got, err := os.ReadFile(filepath.Join(data, "f"))
		assert.NilError(t, err)
		assert.Equal(t, string(got), "host", "the host file changed")
	})
}

// runOut runs busybox with cmd through the Go client with the given
// options, waits for it and returns its exit code and output.
func runOut(ctx context.Context, t *testing.T, c *client.Client, d *harness.Daemon, opts ...container.Option) (int, string) {
	t.Helper()
	id := container.Run(ctx, t, c, opts...)
	wait := c.ContainerWait(ctx, id, client.ContainerWaitOptions{})
	var code int64
	select {
	case r := <-wait.Result:
		code = r.StatusCode
	case err := <-wait.Error:
		t.Fatalf("wait: %v", err)
	}
	out := d.OK(t, "logs", id)
	d.OK(t, "rm", "-f", id)
	return int(code), out
}

// TestMountBindOptions: BindOptions take effect as in Docker: NonRecursive
// hides a submount, a read-only bind is recursively read-only (runc lists
// "rro"), ReadOnlyNonRecursive keeps the submount writable, crun (no
// `features`) falls back to a read-only top and refuses
// ReadOnlyForceRecursive, CreateMountpoint creates the source, propagation
// rslave shows a host mount made after start; and the docker CLI's
// spellings reach them.
func TestMountBindOptions(t *testing.T) {
	d := harness.NewWithImage(t)
	c := d.Client(t)
	ctx := context.Background()
	src := hostTreeWithSubmount(t)
	bind := func(ro bool, bo *mount.BindOptions) container.Option {
		return container.WithMount(mount.Mount{Type: mount.TypeBind, Source: src, Target: "/m", ReadOnly: ro, BindOptions: bo})
	}

	code, out := runOut(ctx, t, c, d, bind(false, nil), container.WithCmd("ls", "/m/sub"))
	assert.Equal(t, code, 0, out)
	assert.Check(t, is.Contains(out, "inner"), "a recursive bind shows the submount")

	code, out = runOut(ctx, t, c, d, bind(false, &mount.BindOptions{NonRecursive: true}), container.WithCmd("ls", "/m/sub"))
	assert.Equal(t, code, 0, out)
	assert.Check(t, !strings.Contains(out, "inner"), "NonRecursive must hide the submount, got %q", out)

	// Recursively read-only on runc, which lists "rro" (crun 1.8 does
	// not: see below), whatever the daemon's default runtime.
	touch := container.WithCmd("sh", "-c", "touch /m/sub/new 2>&1; echo rc=$?")
	_, out = runOut(ctx, t, c, d, bind(true, nil), touch, container.WithRuntime("runc"))
	assert.Check(t, is.Contains(out, "Read-only file system"), "a read-only bind is recursively read-only with runc: %q", out)
	_, out = runOut(ctx, t, c, d, bind(true, &mount.BindOptions{ReadOnlyForceRecursive: true}), touch, container.WithRuntime("runc"))
	assert.Check(t, is.Contains(out, "Read-only file system"), "%q", out)
	_, out = runOut(ctx, t, c, d, bind(true, &mount.BindOptions{ReadOnlyNonRecursive: true}), touch)
	assert.Check(t, is.Contains(out, "rc=0"), "ReadOnlyNonRecursive keeps the submount writable: %q", out)
	_, out = runOut(ctx, t, c, d, bind(true, nil), container.WithCmd("sh", "-c", "touch /m/top 2>&1; echo rc=$?"))
	assert.Check(t, is.Contains(out, "Read-only file system"), "%q", out)

	// crun 1.8 has no `features`: read-only at the top only, and a forced
	// recursive read-only bind fails to start, as Docker does.
	_, out = runOut(ctx, t, c, d, bind(true, nil), container.WithRuntime("crun"), container.WithCmd("sh", "-c", "touch /m/sub/crun 2>&1; echo rc=$?; touch /m/top 2>&1; echo rc=$?"))
	assert.Check(t, is.Contains(out, "rc=0"), "crun: the submount stays writable: %q", out)
	assert.Check(t, is.Contains(out, "Read-only file system"), "crun: the bind itself is read-only: %q", out)
	id := container.Create(ctx, t, c, bind(true, &mount.BindOptions{ReadOnlyForceRecursive: true}), container.WithRuntime("crun"))
	_, err := c.ContainerStart(ctx, id, client.ContainerStartOptions{})
	assert.Check(t, is.ErrorContains(err, "ReadOnlyForceRecursive"))
	d.OK(t, "rm", "-f", id)

	// CreateMountpoint creates the missing source; without it, a 400.
	missing := filepath.Join(t.TempDir(), "a", "b")
	_, err = container.TryCreate(ctx, c, container.WithMount(mount.Mount{Type: mount.TypeBind, Source: missing, Target: "/m"}))
	assert.Check(t, is.ErrorContains(err, "bind source path does not exist"))
	code, out = runOut(ctx, t, c, d, container.WithMount(mount.Mount{Type: mount.TypeBind, Source: missing, Target: "/m",
		BindOptions: &mount.BindOptions{CreateMountpoint: true}}), container.WithCmd("sh", "-c", "echo hi > /m/f"))
	assert.Equal(t, code, 0, out)
	data, err := os.ReadFile(filepath.Join(missing, "f"))
	assert.NilError(t, err)
	assert.Equal(t, string(data), "hi\n")

	// Propagation: a shared host directory bound rslave sees a mount the
	// host makes after the container started; rprivate (the default) does not.
	shared := t.TempDir()
	assert.NilError(t, unix.Mount(shared, shared, "", unix.MS_BIND, ""))
	t.Cleanup(func() { _ = unix.Unmount(shared, unix.MNT_DETACH) })
	assert.NilError(t, unix.Mount("", shared, "", unix.MS_SHARED, ""))
	assert.NilError(t, os.Mkdir(filepath.Join(shared, "late"), 0o755))
	slave := d.OK(t, "run", "-d", "--network", "none", "--mount", "type=bind,src="+shared+",dst=/s,bind-propagation=rslave", "busybox", "sleep", "300")
	private := d.OK(t, "run", "-d", "--network", "none", "--mount", "type=bind,src="+shared+",dst=/s", "busybox", "sleep", "300")
	assert.Equal(t, d.Inspect(t, slave, "{{(index .Mounts 0).Propagation}}"), "rslave")
	late := filepath.Join(shared, "late")
	assert.NilError(t, unix.Mount("tmpfs", late, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { _ = unix.Unmount(late, unix.MNT_DETACH) })
	assert.NilError(t, os.WriteFile(filepath.Join(late, "marker"), []byte("m"), 0o644))
	assert.Equal(t, d.OK(t, "exec", slave, "cat", "/s/late/marker"), "m")
	res := d.Berth(t, "exec", private, "cat", "/s/late/marker")
	assert.Check(t, res.ExitCode != 0, "rprivate must not see the later host mount: %s", res.Combined())
	d.OK(t, "rm", "-f", slave, private)

	// The docker CLI's spellings (src is on a private mount: rslave would
	// be refused, as in Docker).
	out = strings.TrimSpace(d.Docker(t, harness.DockerCLI, "run", "--rm", "--network", "none",
		"--mount", "type=bind,src="+src+",dst=/m,bind-propagation=rprivate,bind-nonrecursive", "busybox", "ls", "/m/sub").Combined())
	assert.Check(t, !strings.Contains(out, "inner"), "docker --mount bind-nonrecursive: %q", out)
	// The submount is read-only too on runc, which lists "rro".
	out = d.Docker(t, harness.DockerCLI, "run", "--rm", "--network", "none", "--runtime", "runc",
		"--mount", "type=bind,src="+src+",dst=/m,readonly", "busybox", "sh", "-c", "touch /m/sub/cli 2>&1; echo rc=$?").Combined()
	assert.Check(t, is.Contains(out, "Read-only file system"), "docker --mount readonly: %q", out)
}

// TestMountVolumeOptions: VolumeOptions.Labels are set on the volume the
// mount creates (Go client and docker CLI), and an existing volume keeps
// its own; VolumeOptions.Subpath mounts a subdirectory, contained in the
// volume.
func TestMountVolumeOptions(t *testing.T) {
	d := harness.NewWithImage(t)
	c := d.Client(t)
	ctx := context.Background()
	id := container.Create(ctx, t, c, container.WithMount(mount.Mount{Type: mount.TypeVolume, Source: "labelled", Target: "/v",
		VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{"team": "a"}, DriverConfig: &mount.Driver{Name: "local"}}}))
	assert.Equal(t, d.OK(t, "volume", "inspect", "--format", "{{json .Labels}}", "labelled"), `{"team":"a"}`)
	d.OK(t, "rm", id)

	d.Docker(t, harness.DockerCLI, "create", "--name", "cli", "--mount", "type=volume,src=clivol,dst=/v,volume-label=k=v", "busybox")
	assert.Equal(t, d.OK(t, "volume", "inspect", "--format", "{{json .Labels}}", "clivol"), `{"k":"v"}`)

	// Subpath: only the subdirectory is mounted; a symlink a container
	// planted in the volume resolves inside the volume, never on the host;
	// a missing subpath fails the start, as in Docker.
	d.OK(t, "run", "--rm", "--network", "none", "-v", "spv:/v", "busybox", "sh", "-c",
		"mkdir -p /v/sub && echo in > /v/sub/f && echo top > /v/topfile && ln -s / /v/esc && ln -s ../../../../.. /v/up")
	out := d.Docker(t, harness.DockerCLI, "run", "--rm", "--network", "none", "--mount", "type=volume,src=spv,dst=/m,volume-subpath=sub", "busybox", "ls", "/m")
	assert.Equal(t, out.ExitCode, 0, out.Combined())
	assert.Equal(t, out.Stdout, "f\n")
	for _, link := range []string{"esc", "up"} {
		code, got := runOut(ctx, t, c, d, container.WithMount(mount.Mount{Type: mount.TypeVolume, Source: "spv", Target: "/m",
			VolumeOptions: &mount.VolumeOptions{Subpath: link}}), container.WithCmd("ls", "/m"))
		assert.Equal(t, code, 0, got)
		assert.Check(t, is.Contains(got, "topfile"), "%s resolves to the volume's root", link)
		assert.Check(t, !strings.Contains(got, "proc"), "%s must not reach the host's root: %q", link, got)
	}
	id = container.Create(ctx, t, c, container.WithMount(mount.Mount{Type: mount.TypeVolume, Source: "spv", Target: "/m",
		VolumeOptions: &mount.VolumeOptions{Subpath: "missing"}}))
	_, err := c.ContainerStart(ctx, id, client.ContainerStartOptions{})
	assert.Check(t, is.ErrorContains(err, `volume subpath "missing" for /m does not exist`))
	d.OK(t, "rm", "-f", id)

	d.OK(t, "volume", "create", "--label", "own=1", "existing")
	container.Create(ctx, t, c, container.WithMount(mount.Mount{Type: mount.TypeVolume, Source: "existing", Target: "/v",
		VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{"team": "b"}}}))
	assert.Equal(t, d.OK(t, "volume", "inspect", "--format", "{{json .Labels}}", "existing"), `{"own":"1"}`)
}

// TestMountVolumeYieldsToTmpfs: `-v /p --tmpfs /p` gives a tmpfs and no
// anonymous volume, as in Docker; two explicit mounts stay a 400.
func TestMountVolumeYieldsToTmpfs(t *testing.T) {
	d := harness.NewWithImage(t)
	before := d.OK(t, "volume", "ls", "-q")
	out := d.Docker(t, harness.DockerCLI, "run", "--rm", "--network", "none", "-v", "/p", "--tmpfs", "/p", "busybox", "grep", " /p ", "/proc/mounts")
	assert.Equal(t, out.ExitCode, 0, out.Combined())
	assert.Check(t, is.Contains(out.Stdout, "tmpfs /p tmpfs"))
	assert.Equal(t, d.OK(t, "volume", "ls", "-q"), before, "no anonymous volume is created")
	// berth's CLI and the raw API (Config.Volumes with an uncleaned path,
	// HostConfig.Mounts tmpfs) alike.
	for _, args := range [][]string{{"--tmpfs", "/p", "-v", "/p"}, {"--mount", "type=tmpfs,dst=/p", "-v", "/p"}} {
		id := d.OK(t, append(append([]string{"create", "--network", "none"}, args...), "busybox", "true")...)
		assert.Check(t, !strings.Contains(d.Inspect(t, id, "{{range .Mounts}}{{.Type}} {{end}}"), "volume"), "%v", args)
		assert.Equal(t, d.Inspect(t, id, "{{json .HostConfig.Tmpfs}}{{len .HostConfig.Mounts}}"), map[bool]string{true: `{"/p":""}0`, false: "null1"}[args[0] == "--tmpfs"])
		d.OK(t, "rm", id)
	}
	r := d.API(t, "POST", "/containers/create", map[string]any{"Image": "busybox", "Volumes": map[string]any{"/p/": map[string]any{}},
		"HostConfig": map[string]any{"NetworkMode": "none", "Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/p"}}}})
	assert.Equal(t, r.Status, 201, string(r.Body))
	assert.Equal(t, d.OK(t, "volume", "ls", "-q"), before, "no anonymous volume is created")

	snap := d.Snapshot(t)
	res := d.Docker(t, harness.DockerCLI, "create", "--tmpfs", "/p", "--mount", "type=tmpfs,dst=/p", "busybox")
	assert.Check(t, res.ExitCode != 0)
	assert.Check(t, is.Contains(res.Stderr, "Duplicate mount point: /p"))
	d.AssertUnchanged(t, snap, "duplicate explicit mounts")
}

// TestMountOptionsRefused: every mount sub-field Berth does not implement
// is a 400 naming it at create, and nothing is left behind.
func TestMountOptionsRefused(t *testing.T) {
	d := harness.NewWithImage(t)
	c := d.Client(t)
	ctx := context.Background()
	snap := d.Snapshot(t)
	vol := func(vo *mount.VolumeOptions) mount.Mount {
		return mount.Mount{Type: mount.TypeVolume, Source: "never", Target: "/v", VolumeOptions: vo}
	}
	for _, tc := range []struct {
		m    mount.Mount
		want string
	}{
		{vol(&mount.VolumeOptions{Subpath: "/etc"}), "subpath must be a relative path within the volume: /etc"},
		{vol(&mount.VolumeOptions{Subpath: "../x"}), "subpath must be a relative path within the volume: ../x"},
		{vol(&mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "nfs"}}), `Mount.VolumeOptions.DriverConfig.Name "nfs" is not supported by berth`},
		{vol(&mount.VolumeOptions{DriverConfig: &mount.Driver{Options: map[string]string{"type": "nfs"}}}), `volume type "nfs" (type=nfs) is not supported by berth's local driver`},
		{vol(&mount.VolumeOptions{DriverConfig: &mount.Driver{Options: map[string]string{"type": "tmpfs", "o": "size=12q"}}}), `invalid tmpfs option "size=12q"`},
		{mount.Mount{Type: mount.TypeVolume, Source: "never", Target: "/v", ClusterOptions: &mount.ClusterOptions{}}, "Mount.ClusterOptions: not supported by berth"},
		{mount.Mount{Type: mount.TypeImage, Source: "busybox", Target: "/v"}, `mount type "image" is not supported by berth`},
		{mount.Mount{Type: mount.TypeNamedPipe, Source: "/x", Target: "/v"}, `mount type "npipe" is not supported by berth`},
		{mount.Mount{Type: mount.TypeCluster, Source: "x", Target: "/v"}, `mount type "cluster" is not supported by berth`},
	} {
		_, err := container.TryCreate(ctx, c, container.WithMount(tc.m))
		assert.Check(t, is.ErrorContains(err, tc.want))
		r := d.API(t, "POST", "/containers/create", map[string]any{"Image": "busybox", "HostConfig": map[string]any{"Mounts": []mount.Mount{tc.m}}})
		assert.Check(t, is.Equal(r.Status, 400), "%s: %s", tc.want, r.Body)
	}
	res := d.Docker(t, harness.DockerCLI, "create", "--mount", "type=volume,src=never,dst=/v,volume-driver=nfs", "busybox")
	assert.Check(t, res.ExitCode != 0)
	assert.Check(t, is.Contains(res.Stderr, `Mount.VolumeOptions.DriverConfig.Name "nfs" is not supported by berth`))
	d.AssertUnchanged(t, snap, "refused mount options")
}
