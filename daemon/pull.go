package daemon

import (
	"context"

	"github.com/distribution/reference"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/jsonstream"
	registrytypes "github.com/moby/moby/api/types/registry"

	"github.com/berth-project/berth/daemon/registry"
)

// ImagePull pulls fromImage (with tag, which may be a digest) for
// platform from its registry, writing Docker's progress messages to out.
// authHeader is the request's X-Registry-Auth. An error before the first
// message is the request's error; later ones end the stream.
func (d *Daemon) ImagePull(ctx context.Context, fromImage, tag, platform, authHeader string, out func(jsonstream.Message) error) error {
	named, err := registry.Normalize(fromImage, tag)
	if err != nil {
		return err
	}
	auth, err := registry.DecodeAuth(authHeader)
	if err != nil {
		return err
	}
	var writeErr error
	emit := func(m jsonstream.Message) {
		if writeErr == nil {
			writeErr = out(m)
		}
	}
	res, err := d.registry.Pull(ctx, d.images, named, platform, auth, func(e registry.Event) {
		m := jsonstream.Message{ID: e.ID, Status: e.Status}
		if e.Status == "Downloading" || e.Status == "Pulling fs layer" || e.Status == "Waiting" {
			m.Progress = &jsonstream.Progress{Current: e.Current, Total: e.Total}
		}
		emit(m)
	})
	if err != nil {
		return err
	}
	name := reference.FamiliarString(named)
	d.imageEvent(res.Image.ID, name, eventtypes.ActionPull)
	if res.Fresh {
		emit(jsonstream.Message{Status: "Status: Downloaded newer image for " + name})
	} else {
		emit(jsonstream.Message{Status: "Status: Image is up to date for " + name})
	}
	return writeErr
}

// RegistryLogin checks credentials against a registry (POST /auth).
func (d *Daemon) RegistryLogin(ctx context.Context, ac registrytypes.AuthConfig) error {
	return d.registry.Login(ctx, ac)
}
