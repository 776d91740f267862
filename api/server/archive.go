package server

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/api/server/httputils"
)

// pathStatHeader carries the PathStat of HEAD and GET archive responses.
const pathStatHeader = "X-Docker-Container-Path-Stat"

func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", invalidParameter("path cannot be empty")
	}
	return p, nil
}

func setPathStat(w http.ResponseWriter, stat *containertypes.PathStat) error {
	data, err := json.Marshal(stat)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(data))
	return nil
}

// getContainerArchive serves GET (a tar stream of the path) and HEAD (its
// description only) /containers/{name}/archive.
func (s *Server) getContainerArchive(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if r.Method == http.MethodHead {
		stat, err := s.backend.ContainerStatPath(r.Context(), name, p)
		if err != nil {
			return err
		}
		if err := setPathStat(w, stat); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	rc, stat, err := s.backend.ContainerArchivePath(r.Context(), name, p)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := setPathStat(w, stat); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	_, err = io.Copy(w, rc)
	return err
}

// putContainerArchive extracts the tar stream of the body into the
// directory path.
func (s *Server) putContainerArchive(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	err = s.backend.ContainerExtractToDir(r.Context(), r.PathValue("name"), p,
		httputils.BoolValue(r, "copyUIDGID"), httputils.BoolValue(r, "noOverwriteDirNonDir"), r.Body)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
