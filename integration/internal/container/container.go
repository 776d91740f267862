// Package container creates and runs containers for integration tests
// through Docker's Go client, with option helpers in moby's style:
//
//	id := container.Run(ctx, t, c, container.WithReadonlyRootfs(), container.WithTmpfs("/run:size=16m"))
//
// Options build the Engine API's own types, so a test states what a client
// sends, not how a CLI spells it.
package container

import (
	"context"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
)

// Request is what a create sends: a name and the three configs.
type Request struct {
	Name       string
	Config     *containertypes.Config
	HostConfig *containertypes.HostConfig
	Networking *network.NetworkingConfig
}

// Option changes a Request.
type Option func(*Request)

// NewRequest is a request for the busybox test image running `true`,
// without a network, changed by opts in order.
func NewRequest(opts ...Option) *Request {
	r := &Request{
		Config:     &containertypes.Config{Image: "busybox", Cmd: []string{"true"}},
		HostConfig: &containertypes.HostConfig{NetworkMode: "none"},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// TryCreate sends the create request and returns the new container's ID
// or the daemon's error.
func TryCreate(ctx context.Context, c *client.Client, opts ...Option) (string, error) {
	r := NewRequest(opts...)
	resp, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: r.Name, Config: r.Config, HostConfig: r.HostConfig, NetworkingConfig: r.Networking,
	})
	if err != nil {
		return "", err
	}
	return resp.ID, nil
}

// Create creates a container and fails the test if the daemon refuses.
func Create(ctx context.Context, t testing.TB, c *client.Client, opts ...Option) string {
	t.Helper()
	id, err := TryCreate(ctx, c, opts...)
	assert.NilError(t, err)
	return id
}

// Run creates and starts a container.
func Run(ctx context.Context, t testing.TB, c *client.Client, opts ...Option) string {
	t.Helper()
	id := Create(ctx, t, c, opts...)
	_, err := c.ContainerStart(ctx, id, client.ContainerStartOptions{})
	assert.NilError(t, err)
	return id
}

// WithName names the container.
func WithName(name string) Option { return func(r *Request) { r.Name = name } }

// WithImage sets the image.
func WithImage(image string) Option { return func(r *Request) { r.Config.Image = image } }

// WithCmd sets the command.
func WithCmd(cmd ...string) Option { return func(r *Request) { r.Config.Cmd = cmd } }

// WithNetworkMode sets the network mode ("none" unless changed).
func WithNetworkMode(mode string) Option {
	return func(r *Request) { r.HostConfig.NetworkMode = containertypes.NetworkMode(mode) }
}

// WithRuntime chooses the OCI runtime.
func WithRuntime(rt string) Option { return func(r *Request) { r.HostConfig.Runtime = rt } }

// WithReadonlyRootfs makes the root filesystem read-only.
func WithReadonlyRootfs() Option { return func(r *Request) { r.HostConfig.ReadonlyRootfs = true } }

// WithTmpfs adds a HostConfig.Tmpfs entry, spelled as --tmpfs: PATH[:OPTIONS].
func WithTmpfs(spec string) Option {
	return func(r *Request) {
		if r.HostConfig.Tmpfs == nil {
			r.HostConfig.Tmpfs = map[string]string{}
		}
		p, opts, _ := strings.Cut(spec, ":")
		r.HostConfig.Tmpfs[p] = opts
	}
}

// WithMount adds a HostConfig.Mounts entry.
func WithMount(m mount.Mount) Option {
	return func(r *Request) { r.HostConfig.Mounts = append(r.HostConfig.Mounts, m) }
}

// WithTmpfsMount adds a --mount type=tmpfs entry at target.
func WithTmpfsMount(target string, opts *mount.TmpfsOptions) Option {
	return WithMount(mount.Mount{Type: mount.TypeTmpfs, Target: target, TmpfsOptions: opts})
}
