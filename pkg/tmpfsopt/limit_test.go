package tmpfsopt

import (
	"math"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// TestLimit covers every spelling of a tmpfs size: the kernel keeps the
// last of size= and nr_blocks= (pages), and 0 or none is unlimited.
func TestLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		want       Limit
		wantOption string
	}{
		{"", Limit{Unlimited: true}, ""},
		{"size=0", Limit{Unlimited: true}, "size=0"},
		{"nr_blocks=0", Limit{Unlimited: true}, "nr_blocks=0"},
		{"size=64m", Limit{Bytes: 64 << 20}, "size=64m"},
		{"size=1048576", Limit{Bytes: 1 << 20}, "size=1048576"},
		{"size=50%", Limit{Percent: 50}, "size=50%"},
		{"nr_blocks=10", Limit{Bytes: 40960}, "nr_blocks=10"},
		{"nr_blocks=1k", Limit{Bytes: 4 << 20}, "nr_blocks=1k"},
		{"nr_blocks=1g", Limit{Bytes: 4 << 40}, "nr_blocks=1g"},
		{"nr_blocks=8t", Limit{Bytes: 1 << 55}, "nr_blocks=8t"},
		{"nr_blocks=2000000t", Limit{Bytes: math.MaxInt64}, "nr_blocks=2000000t"}, // overflows: saturated
		{"size=1m,nr_blocks=0", Limit{Unlimited: true}, "nr_blocks=0"},
		{"nr_blocks=0,size=1m", Limit{Bytes: 1 << 20}, "size=1m"},
		{"size=50%,nr_blocks=2", Limit{Bytes: 8192}, "nr_blocks=2"},
		{"nr_blocks=2,size=50%", Limit{Percent: 50}, "size=50%"},
	}
	for _, tc := range tests {
		o := mustParse(t, tc.in)
		assert.Equal(t, o.Limit(4096), tc.want, tc.in)
		assert.Equal(t, o.SizeOption(), tc.wantOption, tc.in)
		assert.Equal(t, o.HasSize(), tc.in != "", tc.in)
	}
	assert.Equal(t, mustParse(t, "nr_blocks=3").Limit(0), Limit{Bytes: math.MaxInt64}, "no page size: assume the worst")
}

func TestSetSizeBytes(t *testing.T) {
	t.Parallel()
	o := mustParse(t, "nr_blocks=0,exec")
	o.SetSizeBytes(1 << 20)
	assert.Equal(t, o.Limit(4096), Limit{Bytes: 1 << 20})
	assert.Equal(t, o.String(), "exec,size=1048576")
	assert.Equal(t, o.Data(), "size=1048576")
}

func TestMergeSizeAndNrBlocks(t *testing.T) {
	t.Parallel()
	// A user's nr_blocks= replaces a default size=, and the other way round.
	assert.Equal(t, Merge([]string{"size=1m"}, mustParse(t, "nr_blocks=0")).Data(), "nr_blocks=0")
	assert.Equal(t, Merge([]string{"nr_blocks=5"}, mustParse(t, "size=2m")).Data(), "size=2m")
	assert.Equal(t, Merge([]string{"nr_blocks=5"}, mustParse(t, "exec")).Data(), "nr_blocks=5")
}

func TestParseItems(t *testing.T) {
	t.Parallel()
	o, err := ParseItems([]Item{{Key: "ro"}, {Key: "uid", Value: "1000", HasValue: true}, {Key: "exec"}, {Key: "nr_blocks", Value: "0", HasValue: true}})
	assert.NilError(t, err)
	assert.Equal(t, o.String(), "ro,exec,uid=1000,nr_blocks=0")
	// An item's value may hold "=" and ",": it is never split again.
	_, err = ParseItems([]Item{{Key: "size", Value: "1m,nr_blocks=0", HasValue: true}})
	assert.ErrorContains(t, err, `invalid tmpfs option "size=1m,nr_blocks=0"`)
	_, err = ParseItems([]Item{{Key: "exec", Value: "", HasValue: true}})
	assert.ErrorContains(t, err, `invalid tmpfs option "exec=": option takes no value`)
	_, err = ParseItems([]Item{{}})
	assert.ErrorContains(t, err, "empty option")
}

func TestBindOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts string
		want []string
	}{
		{"", []string{"rbind", "rw", "rprivate"}},
		{"noexec,nosuid,nodev,rprivate", []string{"rbind", "nosuid", "nodev", "noexec", "rw", "rprivate"}},
		{"ro,exec,rshared", []string{"rbind", "ro", "rshared"}},
		{"sync,dirsync,mand,noatime,nodiratime,relatime,strictatime,slave",
			[]string{"rbind", "sync", "dirsync", "mand", "noatime", "nodiratime", "relatime", "strictatime", "rw", "slave"}},
		{"runbindable", []string{"rbind", "rw", "runbindable"}},
		{"private", []string{"rbind", "rw", "private"}},
	}
	for _, tc := range tests {
		flags, prop := mustParse(t, tc.opts).MountFlags()
		assert.DeepEqual(t, BindOptions(flags, prop), tc.want)
		// The words say the same as the bits.
		back, err := ParseList(BindOptions(flags, prop)[1:])
		assert.NilError(t, err, tc.opts)
		f2, p2 := back.MountFlags()
		assert.Equal(t, f2, flags, tc.opts)
		if prop == 0 {
			prop = DefaultPropagation
		}
		assert.Equal(t, p2, prop, tc.opts)
	}
}

func TestWordClasses(t *testing.T) {
	t.Parallel()
	for _, w := range []string{"ro", "rw"} {
		assert.Check(t, IsReadOnlyWord(w), w)
		assert.Check(t, !IsPropagationWord(w), w)
	}
	for _, w := range []string{"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"} {
		assert.Check(t, IsPropagationWord(w), w)
		assert.Check(t, !IsReadOnlyWord(w), w)
	}
	for _, w := range []string{"", "z", "nosuid", "bind", "rbind"} {
		assert.Check(t, !IsReadOnlyWord(w) && !IsPropagationWord(w), w)
	}
	assert.Equal(t, DefaultPropagation, uintptr(unix.MS_PRIVATE|unix.MS_REC))
}
