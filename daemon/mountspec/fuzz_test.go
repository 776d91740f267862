package mountspec

import (
	"os"
	"path"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	mounttypes "github.com/moby/moby/api/types/mount"

	"github.com/berth-project/berth/pkg/tmpfsopt"
)

// FuzzResolve resolves a tmpfs given as --tmpfs (dst, opts) and as
// --mount type=tmpfs (dst, sizeBytes, mode, one key/value option) under a
// policy with and without --max-tmpfs-size. Whatever the input, an error
// is a bad-input error, and an accepted tmpfs has a clean destination
// outside /proc and /sys, kernel data that parses again, and, under a
// limit, a size the kernel will hold to that limit.
func FuzzResolve(f *testing.F) {
	for _, tc := range resolveCases {
		hc := tc.req.HostConfig
		if hc == nil {
			continue
		}
		for p, o := range hc.Tmpfs {
			f.Add(p, o, int64(0), uint32(0), "", "")
		}
		for _, m := range hc.Mounts {
			var size int64
			var mode uint32
			var key, value string
			if t := m.TmpfsOptions; t != nil {
				size, mode = t.SizeBytes, uint32(t.Mode)
				if len(t.Options) > 0 && len(t.Options[0]) > 0 {
					key = t.Options[0][0]
					if len(t.Options[0]) > 1 {
						value = t.Options[0][1]
					}
				}
			}
			f.Add(m.Target, "", size, mode, key, value)
		}
	}
	f.Fuzz(func(t *testing.T, dst, opts string, sizeBytes int64, mode uint32, key, value string) {
		var options [][]string
		switch {
		case key != "" && value != "":
			options = [][]string{{key, value}}
		case key != "":
			options = [][]string{{key}}
		}
		for _, policy := range []Policy{basePolicy, max16} {
			reqs := []Request{
				tmpfsReq(dst, opts),
				mountsReq(apiTmpfs(dst, &mounttypes.TmpfsOptions{SizeBytes: sizeBytes, Mode: os.FileMode(mode), Options: options})),
			}
			for _, req := range reqs {
				mounts, err := Resolve(req, testImage, policy)
				if err != nil {
					if !errdefs.IsInvalidArgument(err) {
						t.Fatalf("%v is not an invalid-argument error", err)
					}
					continue
				}
				if len(mounts) != 1 || mounts[0].Tmpfs == nil {
					t.Fatalf("want one tmpfs, got %+v", mounts)
				}
				m := mounts[0]
				if m.Destination != path.Clean(m.Destination) || !path.IsAbs(m.Destination) || m.Destination == "/" {
					t.Fatalf("bad destination %q", m.Destination)
				}
				for _, k := range []string{"/proc", "/sys"} {
					if m.Destination == k || strings.HasPrefix(m.Destination, k+"/") || m.Destination == "/dev" {
						t.Fatalf("tmpfs on %s accepted", m.Destination)
					}
				}
				data, err := tmpfsopt.Parse(m.Tmpfs.Data)
				if err != nil {
					t.Fatalf("data %q does not parse: %v", m.Tmpfs.Data, err)
				}
				if policy.MaxSize > 0 {
					l := data.Limit(policy.PageSize)
					if l.Unlimited || l.Percent > 0 || l.Bytes > policy.MaxSize {
						t.Fatalf("data %q (limit %+v) escapes --max-tmpfs-size %d", m.Tmpfs.Data, l, policy.MaxSize)
					}
				}
			}
		}
	})
}
