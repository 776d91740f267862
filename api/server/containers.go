package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	mounttypes "github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client/pkg/versions"
)

// validContainerName is Docker's rule for container names.
var validContainerName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// maxContainerName bounds a container name, which Docker leaves unbounded:
// a name travels in every list, inspect and event, and is stored with the
// container, so a hostile client must not make it megabytes long.
const maxContainerName = 255

// createRequest is the body of a create, with the KernelMemory field of
// API versions before 1.42.
type createRequest struct {
	containertypes.CreateRequest
	HostConfig *struct {
		containertypes.HostConfig
		KernelMemory int64
	}
}

func (s *Server) postContainersCreate(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("name")
	if len(name) > maxContainerName {
		return invalidParameter("Invalid container name: %d characters, the limit is %d", len(name), maxContainerName)
	}
	if name != "" && !validContainerName.MatchString(name) {
		return invalidParameter("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	var body createRequest
	if err := httputils.ReadJSON(r, &body); err != nil && !errors.Is(err, httputils.ErrEmptyBody) {
		return err
	}
	req := body.CreateRequest
	if body.HostConfig != nil {
		// API 1.42 removed KernelMemory (Docker ignores it from then on);
		// older clients may send it, and kernels since 6.x cannot enforce it.
		if body.HostConfig.KernelMemory != 0 && versions.LessThan(httputils.VersionFromContext(r.Context()), "1.42") {
			return invalidParameter("KernelMemory is not supported: kernel memory limits are deprecated by the kernel and were removed in API 1.42")
		}
		req.HostConfig = &body.HostConfig.HostConfig
	}
	if req.Config == nil {
		return invalidParameter("config cannot be empty in order to create a container")
	}
	hc := req.HostConfig
	if hc == nil {
		hc = &containertypes.HostConfig{}
	}
	nc := req.NetworkingConfig
	if nc == nil {
		nc = &network.NetworkingConfig{}
	}
	// "default" names the platform's default network (the docker CLI sends
	// it when --network is not given); on Linux that is "bridge".
	if hc.NetworkMode == "" || hc.NetworkMode.IsDefault() {
		hc.NetworkMode = network.NetworkBridge
		if ep, ok := nc.EndpointsConfig[network.NetworkDefault]; ok {
			nc.EndpointsConfig[network.NetworkBridge] = ep
			delete(nc.EndpointsConfig, network.NetworkDefault)
		}
	}
	// 0 and negative values of PidsLimit all mean "unlimited".
	if hc.PidsLimit != nil && *hc.PidsLimit <= 0 {
		hc.PidsLimit = nil
	}
	if versions.LessThan(httputils.VersionFromContext(r.Context()), "1.25") {
		// With API 1.24 the client removes the container itself.
		hc.AutoRemove = false
	}
	if req.Config != nil && req.Config.Healthcheck != nil && versions.LessThan(httputils.VersionFromContext(r.Context()), "1.44") {
		// StartInterval came with API 1.44; older clients' value is ignored, as in Docker.
		req.Config.Healthcheck.StartInterval = 0
	}
	if versions.LessThan(httputils.VersionFromContext(r.Context()), "1.44") {
		// Read-only binds became recursively read-only with API 1.44: older
		// clients keep the non-recursive ones they knew, as in Docker.
		for i, m := range hc.Mounts {
			if m.Type != mounttypes.TypeBind {
				continue
			}
			if m.BindOptions != nil && m.BindOptions.ReadOnlyForceRecursive {
				return errdefs.ErrInvalidArgument.WithMessage("BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer")
			}
			if m.ReadOnly {
				bo := mounttypes.BindOptions{}
				if m.BindOptions != nil {
					bo = *m.BindOptions
				}
				bo.ReadOnlyNonRecursive = true
				hc.Mounts[i].BindOptions = &bo
			}
		}
	}
	resp, err := s.backend.ContainerCreate(r.Context(), name, req.Config, hc, nc)
	if err != nil {
		return err
	}
	if resp.Warnings == nil {
		resp.Warnings = []string{}
	}
	return httputils.WriteJSON(w, http.StatusCreated, resp)
}

func (s *Server) getContainersJSON(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	limit, _, err := httputils.IntValue(r, "limit")
	if err != nil {
		return err
	}
	list, err := s.backend.ContainerList(r.Context(), ListOptions{
		All:     httputils.BoolValue(r, "all"),
		Limit:   limit,
		Filters: filters,
	})
	if err != nil {
		return err
	}
	if list == nil {
		list = []containertypes.Summary{}
	}
	if httputils.BoolValue(r, "size") {
		for i := range list {
			rw, rootfs, err := s.backend.ContainerSize(r.Context(), list[i].ID)
			if err != nil {
				continue // removed meanwhile
			}
			list[i].SizeRw, list[i].SizeRootFs = rw, rootfs
		}
	}
	return httputils.WriteJSON(w, http.StatusOK, list)
}

func (s *Server) getContainerInspect(w http.ResponseWriter, r *http.Request) error {
	c, err := s.backend.ContainerInspect(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if httputils.BoolValue(r, "size") {
		rw, rootfs, err := s.backend.ContainerSize(r.Context(), c.ID)
		if err != nil {
			return err
		}
		c.SizeRw, c.SizeRootFs = &rw, &rootfs
	}
	return httputils.WriteJSON(w, http.StatusOK, s.withBerthInfo(r.Context(), c))
}

func (s *Server) postContainerStart(w http.ResponseWriter, r *http.Request) error {
	// A HostConfig in the body of start was removed in API 1.24; a body of
	// "{}" or "null" is tolerated as Docker does. -1 is a chunked body.
	if r.ContentLength > 7 || r.ContentLength == -1 {
		return invalidParameter("starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24")
	}
	if err := s.backend.ContainerStart(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stopTimeout reads the "t" parameter: seconds to wait before killing, -1
// to wait forever, nil for the container's default.
func stopTimeout(r *http.Request) (*int, error) {
	t, ok, err := httputils.IntValue(r, "t")
	if err != nil || !ok {
		return nil, err
	}
	return &t, nil
}

func (s *Server) postContainerStop(w http.ResponseWriter, r *http.Request) error {
	timeout, err := stopTimeout(r)
	if err != nil {
		return err
	}
	var signal string
	if versions.GreaterThanOrEqualTo(httputils.VersionFromContext(r.Context()), "1.42") {
		signal = r.URL.Query().Get("signal")
	}
	if err := s.backend.ContainerStop(r.Context(), r.PathValue("name"), timeout, signal); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postContainerKill(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := s.backend.ContainerKill(r.Context(), name, r.URL.Query().Get("signal")); err != nil {
		return fmt.Errorf("cannot kill container: %s: %w", name, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postContainerRestart(w http.ResponseWriter, r *http.Request) error {
	timeout, err := stopTimeout(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerRestart(r.Context(), r.PathValue("name"), timeout); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteContainer(w http.ResponseWriter, r *http.Request) error {
	if httputils.BoolValue(r, "link") {
		// Docker's rm --link removes a legacy link by its name
		// (/PARENT/ALIAS); Berth has no names for links.
		return notImplemented("removing a link (rm --link) is not supported by berth: remove and recreate the linking container")
	}
	err := s.backend.ContainerRemove(r.Context(), r.PathValue("name"), httputils.BoolValue(r, "force"), httputils.BoolValue(r, "v"))
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postContainerResize(w http.ResponseWriter, r *http.Request) error {
	h, err := httputils.UintValue(r, "h")
	if err != nil {
		return err
	}
	width, err := httputils.UintValue(r, "w")
	if err != nil {
		return err
	}
	if err := s.backend.ContainerResize(r.Context(), r.PathValue("name"), h, width); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// postContainerWait answers once the wait condition is met. From API 1.30 on
// the 200 header is flushed as soon as the backend has registered the wait,
// so that a client can start the container knowing it will see the exit.
func (s *Server) postContainerWait(w http.ResponseWriter, r *http.Request) error {
	legacy := versions.LessThan(httputils.VersionFromContext(r.Context()), "1.30")
	cond := containertypes.WaitConditionNotRunning
	if v := r.URL.Query().Get("condition"); v != "" && !legacy {
		switch c := containertypes.WaitCondition(v); c {
		case containertypes.WaitConditionNotRunning, containertypes.WaitConditionNextExit, containertypes.WaitConditionRemoved:
			cond = c
		default:
			return invalidParameter("invalid condition: %q", v)
		}
	}

	ctx, cancel := s.streamContext(r.Context())
	defer cancel()
	waitC, err := s.backend.ContainerWait(ctx, r.PathValue("name"), cond)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	if !legacy {
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
	}

	var resp containertypes.WaitResponse
	select {
	case <-ctx.Done():
		// The client left or the server is shutting down: nobody to answer.
		return nil
	case res, ok := <-waitC:
		if !ok {
			if ctx.Err() != nil {
				return nil
			}
			resp = containertypes.WaitResponse{StatusCode: -1, Error: &containertypes.WaitExitError{Message: "wait ended without an exit status"}}
		} else {
			resp = res
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(&resp)
}

// tailParam normalises "tail" as Docker reads it: a non-negative count of
// lines, anything else meaning all of them.
func tailParam(v string) string {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return strconv.Itoa(n)
	}
	return "all"
}
