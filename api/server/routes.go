package server

// registerRoutes declares every endpoint. Patterns are unversioned; the
// "/v1.NN" prefix is removed before routing (see stripVersion). A GET pattern
// also serves HEAD.
func (s *Server) registerRoutes() {
	// system
	s.handle("GET /_ping", s.ping)
	s.handle("GET /version", s.getVersion)
	s.handle("GET /info", s.getInfo)
	s.handle("GET /events", s.getEvents)

	// containers
	s.handle("POST /containers/create", s.postContainersCreate)
	s.handle("GET /containers/json", s.getContainersJSON)
	s.handle("GET /containers/{name}/json", s.getContainerInspect)
	s.handle("GET /containers/{name}/logs", s.getContainerLogs)
	s.handle("POST /containers/{name}/start", s.postContainerStart)
	s.handle("POST /containers/{name}/stop", s.postContainerStop)
	s.handle("POST /containers/{name}/kill", s.postContainerKill)
	s.handle("POST /containers/{name}/restart", s.postContainerRestart)
	s.handle("POST /containers/{name}/wait", s.postContainerWait)
	s.handle("POST /containers/{name}/attach", s.postContainerAttach)
	s.handle("POST /containers/{name}/resize", s.postContainerResize)
	s.handle("DELETE /containers/{name}", s.deleteContainer)
	s.handle("GET /containers/{name}/archive", s.getContainerArchive)
	s.handle("PUT /containers/{name}/archive", s.putContainerArchive)

	// images: names contain slashes ("docker.io/library/busybox:latest"),
	// so the name takes the rest of the path and the action is its suffix.
	s.handle("POST /images/load", s.postImagesLoad)
	s.handle("POST /images/create", s.postImagesCreate)
	s.handle("POST /auth", s.postAuth)
	s.handle("GET /images/json", s.getImagesJSON)
	s.handle("GET /images/{name...}", s.getImageByName)
	s.handle("POST /images/{name...}", s.postImageByName)
	s.handle("DELETE /images/{name...}", s.deleteImage)

	// volumes
	s.handle("POST /volumes/create", s.postVolumesCreate)
	s.handle("GET /volumes", s.getVolumes)
	s.handle("GET /volumes/{name}", s.getVolume)
	s.handle("DELETE /volumes/{name}", s.deleteVolume)

	// networks
	s.handle("GET /networks", s.getNetworks)
	s.handle("POST /networks/create", s.postNetworksCreate)
	s.handle("POST /networks/prune", s.postNetworksPrune)
	s.handle("GET /networks/{id}", s.getNetwork)
	s.handle("DELETE /networks/{id}", s.deleteNetwork)
	s.handle("POST /networks/{id}/connect", s.postNetworkConnect)
	s.handle("POST /networks/{id}/disconnect", s.postNetworkDisconnect)

	// exec, pause, top, stats (api/server/exec.go)
	s.registerExecRoutes()
	s.handle("POST /containers/{name}/update", s.postContainerUpdate)
	// Berth's own: what a container wrote (berth audit).
	s.handle("GET /containers/{name}/berth/writes", s.getContainerWrites)

	// rename, diff, export, commit, prunes, df, save, history; 501s and
	// swarm's 503s (api/server/commands.go)
	s.registerCommandRoutes()

	// Everything else, including a known path with another method.
	s.mux.HandleFunc("/", s.notFound)
}
