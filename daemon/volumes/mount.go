package volumes

import (
	"errors"
	"fmt"
	"os"

	"github.com/containerd/errdefs"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// A volume with options is mounted on its directory (Path) in the
// daemon's mount namespace when the first container that uses it starts,
// and unmounted when the last one has stopped, as Docker's local driver
// does: a tmpfs volume's content lives exactly as long as some container
// uses it. The mount is made before the container's shim starts: the
// shim's mount namespace is a copy of the daemon's taken then, so the
// volume's directory is the mounted file system in it whatever the
// propagation of the data root, and the runtime binds that into the
// container.
//
// Who holds a volume is kept in memory only: after a restart of the daemon
// Reconcile rebuilds it from the containers that really run.

// Acquire mounts volume name for container user unless it is mounted
// already, and records that user holds it. A volume without options is
// not mounted.
func (s *Store) Acquire(name, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
	}
	if v.mountErr != nil {
		return fmt.Errorf("volume %s: %w", name, v.mountErr)
	}
	if v.mount == nil {
		return nil
	}
	mounted, err := mountinfo.Mounted(s.Path(name))
	if err != nil {
		return fmt.Errorf("volume %s: %w", name, err)
	}
	if !mounted {
		if err := s.mount(v); err != nil {
			return err
		}
	}
	if s.users[name] == nil {
		s.users[name] = map[string]bool{}
	}
	s.users[name][user] = true
	return nil
}

// Release records that container user no longer holds volume name, and
// unmounts the volume when nobody holds it any more. Releasing a volume
// one does not hold does nothing.
func (s *Store) Release(name, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok || v.mount == nil {
		return nil
	}
	if !s.reconciled {
		// A container adopted at restore that ended before Reconcile:
		// Reconcile must not count it.
		if s.released[name] == nil {
			s.released[name] = map[string]bool{}
		}
		s.released[name][user] = true
		delete(s.users[name], user)
		return nil
	}
	if !s.users[name][user] {
		return nil
	}
	delete(s.users[name], user)
	if len(s.users[name]) > 0 {
		return nil
	}
	delete(s.users, name)
	return s.unmount(v)
}

// Reconcile is called once, after a restart of the daemon, with the
// containers that really run for each volume (a container that ends, or
// starts, meanwhile is Released or Acquired as usual and counted right).
// A mounted volume that no running container uses is unmounted (its users
// ended while no daemon watched, or a start died half way); one in use
// stays mounted and remembers its users. A volume in use that is not mounted (unmounted by
// hand) is mounted again for the containers that start next; the running
// ones keep the file system they have.
func (s *Store) Reconcile(running map[string][]string) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for name, v := range s.vols {
		if len(v.Options) == 0 {
			continue
		}
		users := s.users[name] // started since the daemon did
		if users == nil {
			users = map[string]bool{}
		}
		for _, id := range running[name] {
			if !s.released[name][id] {
				users[id] = true
			}
		}
		mounted, err := mountinfo.Mounted(s.Path(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("volume %s: %w", name, err))
			continue
		}
		switch reconcileAction(len(users) > 0, mounted, v.mount != nil) {
		case unmountVolume:
			if err := s.unmount(v); err != nil {
				errs = append(errs, err)
			}
		case mountVolume:
			if err := s.mount(v); err != nil {
				errs = append(errs, err)
			}
		}
		if len(users) > 0 {
			s.users[name] = users
		}
	}
	s.released = nil
	s.reconciled = true
	return errs
}

// action is what Reconcile does with one volume.
type action int

const (
	keepVolume action = iota
	unmountVolume
	mountVolume
)

// reconcileAction decides, at restore, for a volume with options: used
// tells whether a running container uses it, mounted whether it is
// mounted, valid whether its options still pass (mount can be done).
func reconcileAction(used, mounted, valid bool) action {
	switch {
	case !used && mounted:
		// Its users ended while no daemon watched, or a start died
		// half way.
		return unmountVolume
	case used && !mounted && valid:
		// Unmounted by hand: mounted again for the containers that
		// start next; the running ones keep the file system they have.
		return mountVolume
	}
	return keepVolume
}

// Mounted reports whether volume name is mounted now.
func (s *Store) Mounted(name string) bool {
	ok, _ := mountinfo.Mounted(s.Path(name))
	return ok
}

// mount mounts v's file system on its directory. The caller holds s.mu.
func (s *Store) mount(v *Volume) error {
	m, target := v.mount, s.Path(v.Name)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	switch m.Type {
	case "tmpfs":
		if err := unix.Mount(m.Device, target, "tmpfs", m.Flags, m.Data); err != nil {
			return fmt.Errorf("failed to mount local volume %s: mount tmpfs on %s (%s): %w", v.Name, target, m.Data, err)
		}
	case "none":
		if err := unix.Mount(m.Device, target, "", m.bindFlags(), ""); err != nil {
			return fmt.Errorf("failed to mount local volume %s: bind %s on %s: %w", v.Name, m.Device, target, err)
		}
		if m.Flags != 0 {
			if err := unix.Mount("", target, "", m.bindFlags()|unix.MS_REMOUNT|m.Flags, ""); err != nil {
				_ = unix.Unmount(target, unix.MNT_DETACH)
				return fmt.Errorf("failed to mount local volume %s: remount %s with its flags: %w", v.Name, target, err)
			}
		}
	}
	return nil
}

// unmount unmounts v's directory if it is mounted; the file system goes
// when the last namespace that has it does. Where the data root is a
// shared mount (systemd's default for /), the mount reached the namespaces
// of the shims running then, as slaves: the unmount reaches them too, so
// that no namespace keeps a tmpfs alive (TestVolumeTmpfsSharedDataRoot).
// The caller holds s.mu.
func (s *Store) unmount(v *Volume) error {
	target := s.Path(v.Name)
	// Mounts may be stacked there (a start that died between two
	// mounts, a mount by hand): take them all.
	for range 16 {
		mounted, err := mountinfo.Mounted(target)
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if !mounted {
			return nil
		}
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount volume %s: %w", v.Name, err)
		}
	}
	return fmt.Errorf("unmount volume %s: %s stays mounted", v.Name, target)
}

// NeedsMount reports whether volume name has options and is not mounted
// now, so that a private view of it (MountPrivate) needs its own mount.
func (s *Store) NeedsMount(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	return ok && v.mount != nil && !s.Mounted(name)
}

// MountPrivate mounts volume name's file system on its directory without
// recording a user, for a caller in a private mount namespace of its own
// (a copy into a stopped container): the mount goes with the namespace.
func (s *Store) MountPrivate(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	if !ok {
		return fmt.Errorf("get %s: no such volume: %w", name, errdefs.ErrNotFound)
	}
	if v.mount == nil {
		return nil
	}
	return s.mount(v)
}

// IsTmpfs reports whether volume name is a tmpfs volume (type=tmpfs).
func (s *Store) IsTmpfs(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vols[name]
	return ok && v.mount != nil && v.mount.Type == "tmpfs"
}
