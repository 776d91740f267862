package daemon

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/container"
)

// inContainerFS runs fn with root, c's root directory as its processes see
// it (open, so that nothing of the container is ever resolved by a path
// from the host's root), and whether that is the live view of a running
// container.
//
// A running (or paused) container is reached through /proc/<init
// pid>/root, which walks the container's own mount namespace: its tmpfs,
// volumes and binds are there with their content and flags.
//
// A stopped container's filesystem is mounted for the call only, in a
// mount namespace private to one OS thread (see inPrivateMountNS): the
// image layers and the container's layer (read-only unless writable), its
// volumes and binds. Nothing appears in the host's mount table, and the
// mounts vanish with the thread. For writing, c stays locked so that it
// cannot start meanwhile.
func (d *Daemon) inContainerFS(c *container.Container, writable bool, fn func(root *os.File, live bool) error) error {
	c.Lock()
	if c.State.IsRunning() && c.State.Pid > 0 {
		pid := c.State.Pid
		c.Unlock()
		root, err := openProcessRoot(pid)
		if err != nil {
			return fmt.Errorf("container %s: %w", c.ID, err)
		}
		defer root.Close()
		return fn(root, true)
	}
	if writable {
		defer c.Unlock()
	} else {
		c.Unlock()
	}
	dir, err := os.MkdirTemp(d.cfg.ExecRoot, "cp-")
	if err != nil {
		return err
	}
	defer os.Remove(dir)
	binds := d.containerBinds(c)
	return inPrivateMountNS(func() error {
		if err := mountStoppedRootfs(c, dir, writable); err != nil {
			return err
		}
		for _, b := range binds {
			if b.volume != "" {
				if err := d.volumes.MountPrivate(b.volume); err != nil {
					return err
				}
			}
			if err := bindInto(dir, b); err != nil {
				return err
			}
		}
		root, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer root.Close()
		return fn(root, false)
	})
}

// openProcessRoot opens the root directory of process pid. A pid whose
// process ended can name another one by the time /proc is read: the
// process is held by a pidfd while its root is opened, and must still be
// alive afterwards; a root that is the daemon's own is refused too, as a
// container never has it.
func openProcessRoot(pid int) (*os.File, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("open process %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	root, err := os.OpenFile(fmt.Sprintf("/proc/%d/root", pid), os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("open the root of process %d: %w", pid, err)
	}
	if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); err != nil {
		root.Close()
		return nil, fmt.Errorf("process %d ended: %w", pid, errdefs.ErrConflict)
	}
	var rst, hst unix.Stat_t
	if err := unix.Fstat(int(root.Fd()), &rst); err != nil {
		root.Close()
		return nil, err
	}
	if err := unix.Stat("/", &hst); err != nil {
		root.Close()
		return nil, err
	}
	if rst.Dev == hst.Dev && rst.Ino == hst.Ino {
		root.Close()
		return nil, fmt.Errorf("process %d runs in the host's root: %w", pid, errdefs.ErrConflict)
	}
	return root, nil
}

// hostBind is a volume or bind mount of a container, by host source.
type hostBind struct {
	source, destination string
	readOnly            bool
	// volume, when set, is a volume with options that no running
	// container holds: it is mounted in the private namespace first, as
	// Docker mounts it for the copy (a tmpfs volume starts empty).
	volume string
}

func (d *Daemon) containerBinds(c *container.Container) []hostBind {
	var out []hostBind
	for _, m := range c.Mounts {
		switch m.Type {
		case container.MountBind:
			out = append(out, hostBind{source: m.Source, destination: m.Destination, readOnly: m.ReadOnly})
		case container.MountVolume:
			if m.VolumeName != "" {
				b := hostBind{source: d.volumes.Path(m.VolumeName), destination: m.Destination, readOnly: m.ReadOnly}
				if d.volumes.NeedsMount(m.VolumeName) {
					b.volume = m.VolumeName
				}
				out = append(out, b)
			}
		}
	}
	return out
}

// mountStoppedRootfs mounts c's overlay at target. Read-only, the
// container's layer becomes the top lower layer, so nothing is written and
// the layer is never in use as an upper directory twice.
func mountStoppedRootfs(c *container.Container, target string, writable bool) error {
	lower := append([]string{c.MountpointLayer()}, c.Layers...)
	var (
		opts  string
		flags uintptr
	)
	switch {
	case c.ReadonlyRootfs() || !writable:
		if !c.ReadonlyRootfs() {
			lower = append([]string{c.UpperDir()}, lower...)
		}
		opts = "lowerdir=" + strings.Join(lower, ":")
		flags = unix.MS_RDONLY
	default:
		opts = "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + c.UpperDir() + ",workdir=" + c.WorkDir()
	}
	if err := unix.Mount("overlay", target, "overlay", flags, opts); err != nil {
		return fmt.Errorf("mount the filesystem of stopped container %s: %w", c.ID, err)
	}
	return nil
}

// bindInto bind-mounts b at its destination inside root. The mount point
// is opened by a walk that cannot leave root (a volume shared with a
// running container may be changing under it), and the bind is attached
// to that handle, never to a path resolved again.
func bindInto(root string, b hostBind) error {
	if _, err := os.Stat(b.source); err != nil {
		return nil // a bind whose source is gone: the path shows the layer
	}
	target, err := pathrs.OpenInRoot(root, b.destination)
	if err != nil {
		return fmt.Errorf("mount point %s: %w", b.destination, err)
	}
	defer target.Close()
	tree, err := unix.OpenTree(unix.AT_FDCWD, b.source, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("bind %s at %s: %w", b.source, b.destination, err)
	}
	defer unix.Close(tree)
	if b.readOnly {
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
			return fmt.Errorf("make %s read-only: %w", b.destination, err)
		}
	}
	if err := unix.MoveMount(tree, "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind %s at %s: %w", b.source, b.destination, err)
	}
	return nil
}

// inPrivateMountNS runs fn on an OS thread of its own in a new mount
// namespace where every mount is private. The thread is never handed back
// to the Go scheduler: when fn returns, the goroutine ends, the runtime
// ends the thread, and the namespace and its mounts go with it.
func inPrivateMountNS(fn func() error) error {
	errCh := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
			runtime.UnlockOSThread() // unchanged: the thread may serve others
			errCh <- fmt.Errorf("unshare mount namespace: %w", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			errCh <- fmt.Errorf("make mounts private: %w", err)
			return
		}
		errCh <- fn()
	}()
	return <-errCh
}
