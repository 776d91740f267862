package daemon

import (
	"context"
	"encoding/json"

	"github.com/containerd/errdefs"

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

// ImagePush pushes name (with tag; "" is latest) to its registry, writing
// Docker's progress messages to out.
func (d *Daemon) ImagePush(ctx context.Context, name, tag, authHeader string, out func(jsonstream.Message) error) error {
	named, err := registry.Normalize(name, tag)
	if err != nil {
		return err
	}
	tagged, ok := named.(reference.NamedTagged)
	if !ok {
		return errdefs.ErrInvalidArgument.WithMessage("cannot push a digest reference: " + reference.FamiliarString(named))
	}
	auth, err := registry.DecodeAuth(authHeader)
	if err != nil {
		return err
	}
	var writeErr error
	res, err := d.registry.Push(ctx, d.images, tagged, auth, func(e registry.Event) {
		if writeErr == nil {
			m := jsonstream.Message{ID: e.ID, Status: e.Status}
			switch e.Status {
			case "Preparing":
				m.Progress = &jsonstream.Progress{}
			case "Pushing":
				m.Progress = &jsonstream.Progress{Current: e.Current, Total: e.Total}
			}
			writeErr = out(m)
		}
	})
	if err != nil {
		return err
	}
	if writeErr != nil {
		return writeErr
	}
	aux, err := json.Marshal(map[string]any{"Tag": res.Tag, "Digest": res.Digest, "Size": res.Size})
	if err != nil {
		return err
	}
	raw := json.RawMessage(aux)
	if img, err := d.images.Get(tagged.String()); err == nil {
		d.imageEvent(img.ID, reference.FamiliarString(tagged), eventtypes.ActionPush)
	}
	return out(jsonstream.Message{Progress: &jsonstream.Progress{}, Aux: &raw})
}
