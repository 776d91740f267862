package daemon

import (
	"context"
	"strings"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	mounttypes "github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/storage"

	"github.com/berth-project/berth/container"
)

// ContainerInspect returns the container as GET /containers/{id}/json
// shows it.
func (d *Daemon) ContainerInspect(ctx context.Context, name string) (*containertypes.InspectResponse, error) {
	c, err := d.containers.Get(name)
	if err != nil {
		return nil, err
	}
	c.Lock()
	defer c.Unlock()
	lower := strings.Join(append([]string{c.MountpointLayer()}, c.Layers...), ":")
	data := map[string]string{"LowerDir": lower}
	if !c.ReadonlyRootfs() {
		data["UpperDir"], data["WorkDir"] = c.UpperDir(), c.WorkDir()
	}
	hc := *c.HostConfig
	hc.Links = inspectLinks(c)
	if hc.NetworkMode == "" {
		hc.NetworkMode = "bridge"
	}
	// Logs are always written in Docker's json-file format; docker-py's
	// containers.run only reads the output when it sees that driver.
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = "json-file"
	}
	if hc.LogConfig.Config == nil {
		hc.LogConfig.Config = map[string]string{}
	}
	if hc.CgroupnsMode == "" {
		hc.CgroupnsMode = "host" // the spec asks for no cgroup namespace
	}
	logPath := c.LogPath()
	if !c.Log.Reads() {
		logPath = "" // as Docker: the none driver stores nothing
	}
	resp := &containertypes.InspectResponse{
		ID:              c.ID,
		Created:         c.Created.Format(time.RFC3339Nano),
		Path:            c.Path,
		Args:            nonNil(c.Args),
		State:           c.State.API(),
		Image:           c.ImageID,
		ResolvConfPath:  c.ResolvConfPath(),
		HostnamePath:    c.HostnamePath(),
		HostsPath:       c.HostsPath(),
		LogPath:         logPath,
		Name:            c.Name,
		RestartCount:    c.RestartCount,
		Driver:          "overlay2",
		Platform:        "linux",
		HostConfig:      &hc,
		GraphDriver:     &storage.DriverData{Name: "overlay2", Data: data},
		Mounts:          d.mountPoints(c),
		Config:          c.Config,
		NetworkSettings: d.networkSettings(c),
	}
	return resp, nil
}

// mountPoints lists the mounts as inspect's .Mounts shows them: binds,
// volumes and --mount tmpfs entries; --tmpfs entries do not appear, as in
// Docker.
func (d *Daemon) mountPoints(c *container.Container) []containertypes.MountPoint {
	out := []containertypes.MountPoint{}
	for _, m := range c.Mounts {
		mp := containertypes.MountPoint{Destination: m.Destination, RW: !m.ReadOnly, Mode: m.Mode}
		switch m.Type {
		case container.MountBind:
			mp.Type, mp.Source = mounttypes.TypeBind, m.Source
			mp.Propagation = mounttypes.Propagation(m.Propagation)
			if mp.Propagation == "" {
				mp.Propagation = mounttypes.PropagationRPrivate
			}
		case container.MountVolume:
			mp.Type, mp.Name, mp.Driver = mounttypes.TypeVolume, m.VolumeName, "local"
			mp.Source = d.volumes.Path(m.VolumeName)
			if mp.Mode == "" && !m.FromAPIMounts {
				mp.Mode = "z"
			}
		case container.MountTmpfs:
			if !m.FromAPIMounts {
				continue
			}
			mp.Type = mounttypes.TypeTmpfs
		}
		out = append(out, mp)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
