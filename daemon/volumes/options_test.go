package volumes

import (
	"testing"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/pkg/tmpfsopt"
)

func TestParseOptions(t *testing.T) {
	t.Parallel()
	noHuge := func(opt string) bool { return opt != "huge" }
	// A policy as the daemon's: 16m when no size is given, at most 1g.
	max1g := func(name string, o tmpfsopt.Options) (tmpfsopt.Options, error) {
		if !o.HasSize() {
			o.SetSizeBytes(16 << 20)
		}
		if l := o.Limit(4096); l.Unlimited || l.Percent > 0 || l.Bytes > 1<<30 {
			return o, errdefs.ErrInvalidArgument.WithMessage("tmpfs volume " + name + " is larger than 1g")
		}
		return o, nil
	}
	for _, tc := range []struct {
		name string
		opts map[string]string
		want *Mount
		err  string // a 400 containing this
	}{
		{name: "none", opts: nil, want: nil},
		{name: "docker's tmpfs", opts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=64m,uid=1000,mode=1777"},
			want: &Mount{Type: "tmpfs", Device: "tmpfs", Data: "size=64m,mode=1777,uid=1000"}},
		{name: "tmpfs without device", opts: map[string]string{"type": "tmpfs", "o": "size=1g"},
			want: &Mount{Type: "tmpfs", Device: "tmpfs", Data: "size=1g"}},
		{name: "tmpfs without o", opts: map[string]string{"type": "tmpfs"},
			want: &Mount{Type: "tmpfs", Device: "tmpfs", Data: "size=16777216"}},
		{name: "tmpfs named", opts: map[string]string{"type": "tmpfs", "device": "cache", "o": "size=1m"},
			want: &Mount{Type: "tmpfs", Device: "cache", Data: "size=1m"}},
		{name: "tmpfs flags, no defaults", opts: map[string]string{"type": "tmpfs", "o": "noexec,nosuid,ro,size=64m"},
			want: &Mount{Type: "tmpfs", Device: "tmpfs", Flags: unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_RDONLY, Data: "size=64m"}},
		{name: "tmpfs mpol list", opts: map[string]string{"type": "tmpfs", "o": "mpol=bind:0,1,size=4k"},
			want: &Mount{Type: "tmpfs", Device: "tmpfs", Data: "size=4k,mpol=bind:0,1"}},
		{name: "bind", opts: map[string]string{"type": "none", "o": "bind", "device": "/srv/data/"},
			want: &Mount{Type: "none", Device: "/srv/data"}},
		{name: "rbind ro", opts: map[string]string{"type": "none", "o": "rbind,ro,nosuid", "device": "/srv"},
			want: &Mount{Type: "none", Device: "/srv", Recursive: true, Flags: unix.MS_RDONLY | unix.MS_NOSUID}},

		{name: "unknown key", opts: map[string]string{"type": "tmpfs", "foo": "bar"}, err: `volume option "foo" is not supported by berth's local driver`},
		{name: "quota", opts: map[string]string{"size": "10g"}, err: `volume option "size" (a disk quota) is not supported`},
		{name: "nfs", opts: map[string]string{"type": "nfs", "device": ":/export", "o": "addr=10.0.0.1"}, err: `volume type "nfs" (type=nfs) is not supported by berth`},
		{name: "ext4", opts: map[string]string{"type": "ext4", "device": "/dev/sda1"}, err: `volume type "ext4"`},
		{name: "cifs", opts: map[string]string{"type": "cifs", "device": "//h/s"}, err: `volume type "cifs"`},
		{name: "empty type", opts: map[string]string{"type": ""}, err: `"type" is empty`},
		{name: "device without type", opts: map[string]string{"device": "/x"}, err: `missing required option: "type"`},
		{name: "o without type", opts: map[string]string{"o": "size=1m"}, err: `missing required option: "type"`},
		{name: "bad size", opts: map[string]string{"type": "tmpfs", "o": "size=12q"}, err: `o=size=12q: invalid tmpfs option "size=12q"`},
		{name: "unknown flag", opts: map[string]string{"type": "tmpfs", "o": "size=1m,bogus"}, err: `invalid tmpfs option "bogus"`},
		{name: "bind on tmpfs", opts: map[string]string{"type": "tmpfs", "o": "bind"}, err: `"bind"`},
		{name: "propagation", opts: map[string]string{"type": "tmpfs", "o": "rshared"}, err: `"rshared" is not supported for a volume`},
		{name: "copy-up", opts: map[string]string{"type": "tmpfs", "o": "tmpcopyup"}, err: "tmpcopyup and notmpcopyup are not supported for a volume"},
		{name: "uid name", opts: map[string]string{"type": "tmpfs", "o": "uid=postgres"}, err: "uid=postgres: a volume has no image"},
		{name: "policy", opts: map[string]string{"type": "tmpfs", "o": "size=2g"}, err: "tmpfs volume v is larger than 1g"},
		{name: "policy percent", opts: map[string]string{"type": "tmpfs", "o": "size=50%"}, err: "tmpfs volume v is larger than 1g"},
		{name: "kernel", opts: map[string]string{"type": "tmpfs", "o": "huge=always"}, err: `does not support "huge"`},
		{name: "device with comma", opts: map[string]string{"type": "tmpfs", "device": "a,size=1"}, err: "invalid tmpfs device"},
		{name: "none without device", opts: map[string]string{"type": "none", "o": "bind"}, err: `missing required option: "device"`},
		{name: "none without o", opts: map[string]string{"type": "none", "device": "/srv"}, err: `needs o=bind`},
		{name: "none without bind", opts: map[string]string{"type": "none", "device": "/srv", "o": "ro"}, err: "needs bind or rbind"},
		{name: "relative device", opts: map[string]string{"type": "none", "device": "srv", "o": "bind"}, err: "must be an absolute path"},
		{name: "bind with size", opts: map[string]string{"type": "none", "device": "/srv", "o": "bind,size=1m"}, err: "size=1m is not an option of a bind mount"},
		{name: "bind propagation", opts: map[string]string{"type": "none", "device": "/srv", "o": "bind,shared"}, err: `"shared" is not supported for a volume`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOptions("v", tc.opts, Checks{KernelSupports: noHuge, Tmpfs: max1g})
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				assert.Assert(t, errdefs.IsInvalidArgument(err), "%v", err)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestReconcileAction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		used, mounted, valid bool
		want                 action
	}{
		{used: false, mounted: false, valid: true, want: keepVolume},
		{used: false, mounted: true, valid: true, want: unmountVolume},
		{used: false, mounted: true, valid: false, want: unmountVolume},
		{used: true, mounted: true, valid: true, want: keepVolume},
		{used: true, mounted: false, valid: true, want: mountVolume},
		{used: true, mounted: false, valid: false, want: keepVolume},
	} {
		assert.Equal(t, reconcileAction(tc.used, tc.mounted, tc.valid), tc.want, "%+v", tc)
	}
}
