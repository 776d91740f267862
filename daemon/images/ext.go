package images

import dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

// Healthcheck is the image's HEALTHCHECK (Docker's extension of the OCI
// image config), or nil.
func (i *Image) Healthcheck() *dockerspec.HealthcheckConfig { return i.ext.Healthcheck }
