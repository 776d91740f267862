package daemon

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/containerd/errdefs"
	eventtypes "github.com/moby/moby/api/types/events"
)

// validName is Docker's rule for container names (with the leading "/").
var validName = regexp.MustCompile(`^/[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// ContainerRename gives a container a new name (docker rename). The new
// name is reserved before the old one is freed, so two renames to one
// name cannot both win.
func (d *Daemon) ContainerRename(ctx context.Context, oldName, newName string) error {
	if oldName == "" || newName == "" {
		return errdefs.ErrInvalidArgument.WithMessage("Neither old nor new names may be empty")
	}
	c, err := d.containers.Get(oldName)
	if err != nil {
		return err
	}
	newName = "/" + strings.TrimPrefix(newName, "/")
	c.Lock()
	defer c.Unlock()
	old := c.Name
	if old == newName {
		return errdefs.ErrInvalidArgument.WithMessage("Renaming a container with the same name as its current name")
	}
	if !validName.MatchString(newName) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Error when allocating new name: Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", newName))
	}
	if err := d.containers.Reserve(newName, c.ID); err != nil {
		return fmt.Errorf("Error when allocating new name: %w", err)
	}
	c.Name = newName
	if err := c.ToDisk(); err != nil {
		c.Name = old
		d.containers.Release(newName)
		return err
	}
	d.containers.Release(old)
	if err := d.networks.Rename(c.ID, newName); err != nil {
		d.log.Warn("record the new name on the container's networks", "container", c.ID, "err", err)
	}
	// The DNS servers of its running endpoints learn the new name.
	d.replayEndpoints(c)
	d.containerEvent(c, eventtypes.ActionRename, map[string]string{"oldName": old})
	return nil
}
