package format

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"
)

// ImageTableFormat is the default `images` table.
const ImageTableFormat = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"

// ImageHeader holds the column titles of the image fields.
var ImageHeader = map[string]string{
	"Repository":   "REPOSITORY",
	"Tag":          "TAG",
	"Digest":       "DIGEST",
	"ID":           "IMAGE ID",
	"CreatedSince": "CREATED",
	"CreatedAt":    "CREATED AT",
	"Size":         "SIZE",
	"Containers":   "CONTAINERS",
}

// Image is the template context for one `images` row: one image under one
// of its repository:tag names.
type Image struct {
	I     image.Summary
	Repo  string
	Label string // the tag, "<none>" when untagged
	Trunc bool
	Now   time.Time
}

// ImageRows expands an image into one row per repository tag, or a single
// "<none>" row when it has no tag.
func ImageRows(img image.Summary, trunc bool, now time.Time) []Image {
	if len(img.RepoTags) == 0 {
		repo := "<none>"
		// An untagged image with a digest still shows its repository.
		if len(img.RepoDigests) > 0 {
			if name, _, ok := strings.Cut(img.RepoDigests[0], "@"); ok {
				repo = name
			}
		}
		return []Image{{I: img, Repo: repo, Label: "<none>", Trunc: trunc, Now: now}}
	}
	rows := make([]Image, 0, len(img.RepoTags))
	for _, ref := range img.RepoTags {
		repo, tag := SplitRepoTag(ref)
		if tag == "" {
			tag = "<none>"
		}
		rows = append(rows, Image{I: img, Repo: repo, Label: tag, Trunc: trunc, Now: now})
	}
	return rows
}

// SplitRepoTag splits "repo:tag" at the tag separator, which is a ':' after
// the last '/' ("localhost:5000/a:b" -> "localhost:5000/a", "b").
func SplitRepoTag(ref string) (repo, tag string) {
	if ref == "<none>:<none>" {
		return "<none>", "<none>"
	}
	slash := strings.LastIndexByte(ref, '/')
	if colon := strings.LastIndexByte(ref, ':'); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, ""
}

// Repository is the repository name.
func (i Image) Repository() string { return i.Repo }

// Tag is the tag, "<none>" when untagged.
func (i Image) Tag() string { return i.Label }

// Digest is the first repository digest, "<none>" when there is none.
func (i Image) Digest() string {
	for _, d := range i.I.RepoDigests {
		if _, dg, ok := strings.Cut(d, "@"); ok {
			return dg
		}
	}
	return "<none>"
}

// ID is the image ID: 12 hex digits, or the full "sha256:..." untruncated.
func (i Image) ID() string {
	if i.Trunc {
		return TruncateID(i.I.ID)
	}
	return i.I.ID
}

// CreatedSince is the image's age ("2 weeks ago").
func (i Image) CreatedSince() string {
	if i.I.Created <= 0 {
		return "N/A"
	}
	now := i.Now
	if now.IsZero() {
		now = time.Now()
	}
	return SinceUnix(i.I.Created, now)
}

// CreatedAt is the creation time.
func (i Image) CreatedAt() string { return time.Unix(i.I.Created, 0).String() }

// Size is the image size ("4.27MB").
func (i Image) Size() string { return Size(i.I.Size) }

// Containers counts the containers using the image, "N/A" when unknown.
func (i Image) Containers() string {
	if i.I.Containers < 0 {
		return "N/A"
	}
	return strconv.FormatInt(i.I.Containers, 10)
}

// MarshalJSON renders the row for `--format json`.
func (i Image) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"Containers": i.Containers(), "CreatedAt": i.CreatedAt(), "CreatedSince": i.CreatedSince(),
		"Digest": i.Digest(), "ID": i.ID(), "Repository": i.Repository(), "Size": i.Size(), "Tag": i.Tag(),
	})
}
