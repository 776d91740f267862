package daemon

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/container"
	"github.com/berth-project/berth/daemon/chrootarchive"
	"github.com/berth-project/berth/daemon/images"
	"github.com/berth-project/berth/daemon/layerdiff"
)

// ContainerChanges lists what the container's writable layer changed
// over its image (docker diff). A read-only container has no writable
// layer: nothing changed (its tmpfs mounts are not part of its layers, as
// Docker's are not).
func (d *Daemon) ContainerChanges(ctx context.Context, name string) ([]containertypes.FilesystemChange, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	if c.ReadonlyRootfs() {
		return []containertypes.FilesystemChange{}, nil
	}
	entries, err := layerdiff.Walk(c.UpperDir())
	if os.IsNotExist(err) {
		return []containertypes.FilesystemChange{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the writable layer of %s: %w", c.ID, err)
	}
	inLower, done := layerdiff.InLower(append([]string{c.MountpointLayer()}, c.Layers...))
	defer done()
	return layerdiff.Changes(entries, inLower), nil
}

// ContainerExport returns a tar stream of the container's filesystem
// (docker export): for a running container, as its processes see it; for
// a stopped one, its image and writable layer with its volumes and binds.
// The archive is made by the chrooted helper, so a hostile container
// cannot make it read the host.
func (d *Daemon) ContainerExport(ctx context.Context, name string) (io.ReadCloser, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	rc, _, err := d.streamArchive(c, func(root *os.File) (*chrootarchive.Archive, error) {
		return chrootarchive.Tree(d.ctx, d.self, root, false)
	})
	if err != nil {
		return nil, err
	}
	d.containerEvent(c, eventtypes.ActionExport, nil)
	return rc, nil
}

// ContainerCommit makes an image of the container (docker commit): its
// image's layers, plus its writable layer unless the container is
// read-only, with the container's configuration and the changes applied.
// With pause, a running container is paused meanwhile, as in Docker, so
// the layer is consistent.
func (d *Daemon) ContainerCommit(ctx context.Context, name string, opts backend.CommitOptions) (string, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return "", err
	}
	c.Lock()
	running := c.State.Status == containertypes.StateRunning
	c.Unlock()
	if opts.Pause && running {
		if err := d.ContainerPause(ctx, c.ID); err == nil {
			defer func() {
				if err := d.ContainerUnpause(context.WithoutCancel(ctx), c.ID); err != nil {
					d.log.Warn("unpause after commit", "container", c.ID, "err", err)
				}
			}()
		}
	}
	cfg := imageConfigOf(c.Config)
	if opts.Config != nil {
		mergeCommitConfig(&cfg, opts.Config)
	}
	createdBy := strings.TrimSpace(c.Path + " " + strings.Join(c.Args, " "))
	commit := images.CommitOptions{
		Config:    cfg,
		Changes:   opts.Changes,
		Comment:   opts.Comment,
		Author:    opts.Author,
		CreatedBy: createdBy,
		Ref:       opts.Ref,
	}
	var img *images.Image
	if c.ReadonlyRootfs() {
		img, err = d.images.Commit(ctx, c.ImageID, nil, commit)
	} else {
		img, err = d.commitLayer(ctx, c, commit)
	}
	if err != nil {
		return "", err
	}
	d.containerEvent(c, eventtypes.ActionCommit, map[string]string{"comment": opts.Comment, "imageID": img.ID, "imageRef": familiarRef(opts.Ref)})
	if opts.Ref != "" {
		d.imageEvent(img.ID, opts.Ref, eventtypes.ActionTag)
	}
	return img.ID, nil
}

// commitLayer commits c's writable layer, archived by the chrooted helper
// with the upper directory as its root: a symlink the container planted
// there never leads the archiver out of it.
func (d *Daemon) commitLayer(ctx context.Context, c *container.Container, opts images.CommitOptions) (*images.Image, error) {
	upper, err := os.OpenFile(c.UpperDir(), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("open the writable layer of %s: %w", c.ID, err)
	}
	defer upper.Close()
	a, err := chrootarchive.Tree(ctx, d.self, upper, true)
	if err != nil {
		return nil, err
	}
	img, err := d.images.Commit(ctx, c.ImageID, a, opts)
	if werr := a.Wait(); err == nil && werr != nil {
		return nil, werr
	}
	return img, err
}

// imageConfigOf is the image configuration docker commit derives from a
// container's configuration.
func imageConfigOf(cfg *containertypes.Config) dockerspec.DockerOCIImageConfig {
	var out dockerspec.DockerOCIImageConfig
	if cfg == nil {
		return out
	}
	out.User = cfg.User
	out.Env = slices.Clone(cfg.Env)
	out.Entrypoint = slices.Clone(cfg.Entrypoint)
	out.Cmd = slices.Clone(cfg.Cmd)
	out.WorkingDir = cfg.WorkingDir
	out.Labels = maps.Clone(cfg.Labels)
	out.StopSignal = cfg.StopSignal
	out.ArgsEscaped = cfg.ArgsEscaped //nolint:staticcheck // Docker keeps it too
	out.Volumes = maps.Clone(cfg.Volumes)
	if len(cfg.ExposedPorts) > 0 {
		out.ExposedPorts = map[string]struct{}{}
		for p := range cfg.ExposedPorts {
			out.ExposedPorts[p.String()] = struct{}{}
		}
	}
	out.Healthcheck = cfg.Healthcheck
	out.OnBuild = slices.Clone(cfg.OnBuild)
	out.Shell = slices.Clone(cfg.Shell)
	return out
}

// mergeCommitConfig applies the fields a commit request's config sets
// over the container's, as Docker's merge does.
func mergeCommitConfig(dst *dockerspec.DockerOCIImageConfig, src *containertypes.Config) {
	over := imageConfigOf(src)
	if over.User != "" {
		dst.User = over.User
	}
	if len(over.Env) > 0 {
		dst.Env = over.Env
	}
	if len(over.Entrypoint) > 0 {
		dst.Entrypoint = over.Entrypoint
	}
	if len(over.Cmd) > 0 {
		dst.Cmd = over.Cmd
	}
	if over.WorkingDir != "" {
		dst.WorkingDir = over.WorkingDir
	}
	if len(over.Labels) > 0 {
		if dst.Labels == nil {
			dst.Labels = map[string]string{}
		}
		maps.Copy(dst.Labels, over.Labels)
	}
	if over.StopSignal != "" {
		dst.StopSignal = over.StopSignal
	}
	for k, v := range over.Volumes {
		if dst.Volumes == nil {
			dst.Volumes = map[string]struct{}{}
		}
		dst.Volumes[k] = v
	}
	for k, v := range over.ExposedPorts {
		if dst.ExposedPorts == nil {
			dst.ExposedPorts = map[string]struct{}{}
		}
		dst.ExposedPorts[k] = v
	}
	if over.Healthcheck != nil {
		dst.Healthcheck = over.Healthcheck
	}
}

// ImageHistory returns the history of an image (docker history).
func (d *Daemon) ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error) {
	img, err := d.images.Get(name)
	if err != nil {
		return nil, err
	}
	return d.images.History(img), nil
}

// ImageSave writes the images as a docker save archive.
func (d *Daemon) ImageSave(ctx context.Context, names []string, w io.Writer) error {
	for _, n := range names {
		if _, err := d.images.Get(n); err != nil {
			return err
		}
	}
	if err := d.images.Save(ctx, names, w); err != nil {
		return err
	}
	for _, n := range names {
		if img, err := d.images.Get(n); err == nil {
			d.imageEvent(img.ID, n, eventtypes.ActionSave)
		}
	}
	return nil
}

// familiarRef shortens a normalized reference as Docker shows it in
// events ("mine:v1"); "" stays "".
func familiarRef(ref string) string {
	if ref == "" {
		return ""
	}
	return images.FamiliarName(ref)
}
