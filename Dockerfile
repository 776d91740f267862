# syntax=docker/dockerfile:1
#
# Berth's binaries (berthd, berth) built in a Go builder and installed in a
# small Debian image with the OCI runtimes berthd drives.
#
#   docker build -t berth --build-arg BERTH_VERSION=$(git describe --tags --always --dirty) .
#
# Running berthd in a container needs what any container engine needs
# (namespaces, overlayfs and tmpfs mounts, cgroups), i.e. --privileged, and a
# data root on a filesystem overlayfs accepts as upper (a volume, not the
# container's own overlay root):
#   docker run -d --name berthd --privileged \
#     -v berth-data:/var/lib/berth -v /run/berth:/run/berth \
#     berth -H unix:///run/berth/berth.sock
# For a host install, copy the binaries out (docker create + docker cp) and
# use contrib/systemd.

ARG GO_VERSION=1.26
ARG DEBIAN_RELEASE=bookworm

# The builder runs on the build machine and cross-compiles (pure Go).
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
ARG BERTH_VERSION=dev
ARG TARGETOS
ARG TARGETARCH
# Static binaries (no cgo): they run on any libc. -mod=vendor when the tree
# is vendored (nothing is fetched then), the module cache otherwise (a cache
# mount, so modules are fetched once per builder, not per source change).
RUN --mount=type=cache,target=/go/pkg/mod \
	--mount=type=cache,target=/root/.cache/go-build \
	set -eu; \
	mod=; if [ -d vendor ]; then mod=-mod=vendor; fi; \
	mkdir -p /out; \
	for b in berthd berth berth-kube berth-shim; do \
		CGO_ENABLED=0 GOOS="${TARGETOS:-linux}" GOARCH="${TARGETARCH:-$(go env GOARCH)}" \
		go build $mod -trimpath \
			-ldflags "-s -w -X github.com/berth-project/berth/daemon.Version=${BERTH_VERSION}" \
			-o "/out/$b" "./cmd/$b"; \
	done; \
	# berth-seccomp links libseccomp (cgo): built for the build machine's own \
	# architecture only; elsewhere crun compiles seccomp profiles itself. \
	if [ "${TARGETARCH:-$(go env GOARCH)}" = "$(go env GOARCH)" ]; then \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends libseccomp-dev >/dev/null; \
		CGO_ENABLED=1 go build $mod -trimpath -ldflags "-s -w" -o /out/berth-seccomp ./cmd/berth-seccomp; \
	fi

FROM debian:${DEBIAN_RELEASE}-slim
# runc is berthd's default runtime, crun the alternative (--runtime crun);
# ca-certificates for registries. No recommends: no daemons, no docs.
RUN set -eu; \
	apt-get update; \
	apt-get install -y --no-install-recommends runc crun ca-certificates; \
	rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
# Persistent state (images, containers, volumes); the exec root (/run/berth)
# and the socket are runtime state and need no volume.
VOLUME /var/lib/berth
# berthd stops on SIGTERM and leaves the containers (their shims) running.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/berthd"]
