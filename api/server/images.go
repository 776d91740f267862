package server

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/berth-project/berth/api/server/httputils"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
)

// streamMessage is one message of a JSON progress stream (the responses of
// load, import and pull), in the shape Docker's clients decode.
type streamMessage struct {
	Stream      string            `json:"stream,omitempty"`
	Status      string            `json:"status,omitempty"`
	ErrorDetail *jsonstream.Error `json:"errorDetail,omitempty"`
	Error       string            `json:"error,omitempty"`
}

// writeStreamMessage writes m terminated by "\r\n", as Docker's stream
// formatter does, and flushes it.
func writeStreamMessage(w http.ResponseWriter, m streamMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\r', '\n')); err != nil {
		return err
	}
	return http.NewResponseController(w).Flush()
}

func streamError(err error) streamMessage {
	return streamMessage{ErrorDetail: &jsonstream.Error{Message: err.Error()}, Error: err.Error()}
}

// postImagesLoad loads a "docker save" or OCI layout archive. As with Docker,
// the response is always a 200 stream; a failure is its last message.
func (s *Server) postImagesLoad(w http.ResponseWriter, r *http.Request) error {
	refs, err := s.backend.ImageLoad(r.Context(), r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if err != nil {
		return writeStreamMessage(w, streamError(err))
	}
	for _, ref := range refs {
		msg := "Loaded image: " + familiarName(ref) + "\n"
		if strings.HasPrefix(ref, "sha256:") {
			msg = "Loaded image ID: " + ref + "\n"
		}
		if err := writeStreamMessage(w, streamMessage{Stream: msg}); err != nil {
			return err
		}
	}
	return nil
}

// postImagesCreate pulls fromImage from its registry, or imports a rootfs
// tarball sent in the body (fromSrc=-).
func (s *Server) postImagesCreate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if from := q.Get("fromImage"); from != "" {
		return s.pullImage(w, r, from)
	}
	src := q.Get("fromSrc")
	switch src {
	case "-":
	case "":
		return invalidParameter("either fromImage or fromSrc must be set")
	default:
		return notImplemented("importing from a URL is not supported by berth: send the archive in the request body (fromSrc=-)")
	}
	ref, err := repoTagReference(q.Get("repo"), q.Get("tag"))
	if err != nil {
		return err
	}
	message := q.Get("message")
	if message == "" {
		message = "Imported from " + src
	}
	id, err := s.backend.ImageImport(r.Context(), r.Body, ref, message, q["changes"])
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return writeStreamMessage(w, streamMessage{Status: id})
}

func (s *Server) getImagesJSON(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	list, err := s.backend.ImageList(r.Context(), httputils.BoolValue(r, "all"), filters)
	if err != nil {
		return err
	}
	if list == nil {
		list = []image.Summary{}
	}
	return httputils.WriteJSON(w, http.StatusOK, list)
}

// getImageByName serves GET /images/{name}/json, /history and /get (and
// GET /images/get and /images/search), where name may contain slashes.
func (s *Server) getImageByName(w http.ResponseWriter, r *http.Request) error {
	full := r.PathValue("name")
	switch full {
	case "get":
		return s.getImagesSave(w, r, r.URL.Query()["names"])
	case "search":
		return notImplemented("searching registries is not supported by Berth")
	}
	name, action := imageAction(full)
	switch action {
	case "history":
		return s.getImageHistory(w, r, name)
	case "get":
		return s.getImagesSave(w, r, []string{name})
	case "json":
	default:
		s.notFound(w, r)
		return nil
	}
	img, err := s.backend.ImageInspect(r.Context(), name)
	if err != nil {
		return err
	}
	if img.RepoTags == nil {
		img.RepoTags = []string{}
	}
	if img.RepoDigests == nil {
		img.RepoDigests = []string{}
	}
	return httputils.WriteJSON(w, http.StatusOK, img)
}

// postImageByName serves POST /images/{name}/tag (and refuses push), where
// name may contain slashes.
func (s *Server) postImageByName(w http.ResponseWriter, r *http.Request) error {
	full := r.PathValue("name")
	if name, ok := strings.CutSuffix(full, "/tag"); ok && name != "" {
		return s.postImageTag(w, r, name)
	}
	if name, ok := strings.CutSuffix(full, "/push"); ok && name != "" {
		return s.pushImage(w, r, name)
	}
	s.notFound(w, r)
	return nil
}

func (s *Server) postImageTag(w http.ResponseWriter, r *http.Request, name string) error {
	q := r.URL.Query()
	if q.Get("repo") == "" {
		return invalidParameter("repository name must not be empty")
	}
	ref, err := repoTagReference(q.Get("repo"), q.Get("tag"))
	if err != nil {
		return err
	}
	if err := s.backend.ImageTag(r.Context(), name, ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (s *Server) deleteImage(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if strings.TrimSpace(name) == "" {
		return invalidParameter("image name cannot be blank")
	}
	deleted, err := s.backend.ImageDelete(r.Context(), name, httputils.BoolValue(r, "force"), !httputils.BoolValue(r, "noprune"))
	if err != nil {
		return err
	}
	if deleted == nil {
		deleted = []image.DeleteResponse{}
	}
	return httputils.WriteJSON(w, http.StatusOK, deleted)
}

// repoTagReference joins the "repo" and "tag" parameters into a normalized
// reference ("docker.io/library/busybox:latest"); tag defaults to latest.
// It returns "" when repo is empty.
func repoTagReference(repo, tag string) (string, error) {
	if repo == "" {
		return "", nil
	}
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return "", invalidParameter("invalid reference format: %s", repo)
	}
	if _, ok := named.(reference.Digested); ok {
		return "", invalidParameter("cannot import digest reference")
	}
	if tag == "" {
		return reference.TagNameOnly(named).String(), nil
	}
	tagged, err := reference.WithTag(reference.TrimNamed(named), tag)
	if err != nil {
		return "", invalidParameter("invalid tag format: %s", tag)
	}
	return tagged.String(), nil
}

// familiarName shortens a normalized reference the way the docker CLI shows
// it ("busybox:latest"); other strings are returned unchanged.
func familiarName(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarString(named)
}

// streamWriter returns a message writer that sends the status line with
// the first message, and whether it has.
func streamWriter(w http.ResponseWriter) (out func(jsonstream.Message) error, started func() bool) {
	begun := false
	return func(m jsonstream.Message) error {
		if !begun {
			begun = true
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\r', '\n')); err != nil {
			return err
		}
		return http.NewResponseController(w).Flush()
	}, func() bool { return begun }
}

// pushImage streams a push's progress; errors are handled as in pullImage.
func (s *Server) pushImage(w http.ResponseWriter, r *http.Request, name string) error {
	if r.URL.Query().Get("platform") != "" {
		return invalidParameter("push of one platform of an image is not supported by berth: push the image without platform")
	}
	out, started := streamWriter(w)
	err := s.backend.ImagePush(r.Context(), name, r.URL.Query().Get("tag"), r.Header.Get(registry.AuthHeader), out)
	if err != nil && started() {
		return writeStreamMessage(w, streamError(err))
	}
	return err
}

// pullImage streams a pull's progress as Docker's JSON messages. The
// status line is sent with the first message, so an error before it (a
// bad reference, an unknown repository, no credentials) keeps its own
// status code; a later one is the stream's last message.
func (s *Server) pullImage(w http.ResponseWriter, r *http.Request, from string) error {
	q := r.URL.Query()
	for _, k := range []string{"repo", "fromSrc", "changes"} {
		if q.Has(k) {
			return invalidParameter("%s cannot be combined with fromImage", k)
		}
	}
	out, started := streamWriter(w)
	err := s.backend.ImagePull(r.Context(), from, q.Get("tag"), q.Get("platform"), r.Header.Get(registry.AuthHeader), out)
	if err != nil && started() {
		return writeStreamMessage(w, streamError(err))
	}
	return err
}

// postAuth checks credentials against a registry (docker login).
func (s *Server) postAuth(w http.ResponseWriter, r *http.Request) error {
	var ac registry.AuthConfig
	if err := json.NewDecoder(r.Body).Decode(&ac); err != nil {
		return invalidParameter("invalid auth configuration: %v", err)
	}
	if err := s.backend.RegistryLogin(r.Context(), ac); err != nil {
		return err
	}
	return httputils.WriteJSON(w, http.StatusOK, registry.AuthResponse{Status: "Login Succeeded"})
}
