package opts

import (
	"testing"

	"github.com/moby/moby/api/types/blkiodev"
	"gotest.tools/v3/assert"
)

func TestParseCPUs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{in: "1", want: 1e9},
		{in: "0.5", want: 5e8},
		{in: "1.25", want: 125e7},
		{in: "0.0000000001", err: "value is too precise"},
		{in: "abc", err: "failed to parse abc as a rational number"},
		{in: "-1", err: "invalid number of CPUs"},
	} {
		got, err := ParseCPUs(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		assert.NilError(t, err, tc.in)
		assert.Equal(t, got, tc.want, tc.in)
	}
}

func TestParseThrottle(t *testing.T) {
	t.Parallel()
	d, err := ParseThrottleBps("/dev/vda:1mb")
	assert.NilError(t, err)
	assert.DeepEqual(t, d, &blkiodev.ThrottleDevice{Path: "/dev/vda", Rate: 1 << 20})
	d, err = ParseThrottleIOps("/dev/vda:100")
	assert.NilError(t, err)
	assert.DeepEqual(t, d, &blkiodev.ThrottleDevice{Path: "/dev/vda", Rate: 100})
	for _, bad := range []string{"/dev/vda", "vda:1mb", "/dev/vda:x", "/dev/vda:1:2"} {
		_, err := ParseThrottleBps(bad)
		assert.Check(t, err != nil, bad)
	}
	_, err = ParseThrottleIOps("/dev/vda:1mb")
	assert.ErrorContains(t, err, "invalid rate for device")
	w, err := ParseWeightDevice("/dev/vda:500")
	assert.NilError(t, err)
	assert.DeepEqual(t, w, &blkiodev.WeightDevice{Path: "/dev/vda", Weight: 500})
	_, err = ParseWeightDevice("/dev/vda:5")
	assert.ErrorContains(t, err, "invalid weight for device")
}

func TestMemSwapBytes(t *testing.T) {
	t.Parallel()
	var m MemSwapBytes
	assert.NilError(t, m.Set("-1"))
	assert.Equal(t, int64(m), int64(-1))
	assert.NilError(t, m.Set("64m"))
	assert.Equal(t, int64(m), int64(64<<20))
	assert.Check(t, m.Set("-2") != nil)
}

func TestParseUlimit(t *testing.T) {
	t.Parallel()
	u, err := ParseUlimit("nofile=100:200")
	assert.NilError(t, err)
	assert.Equal(t, u.Soft, int64(100))
	assert.Equal(t, u.Hard, int64(200))
	_, err = ParseUlimit("nofile=300:200")
	assert.ErrorContains(t, err, "soft limit must be less than or equal to hard limit")
	_, err = ParseUlimit("bogus=1")
	assert.ErrorContains(t, err, "invalid ulimit type: bogus")
}

func FuzzParseThrottleBps(f *testing.F) {
	for _, s := range []string{"/dev/vda:1mb", "/dev/x:", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseThrottleBps(s); err == nil && d.Path == "" {
			t.Fatalf("%q: empty path accepted", s)
		}
	})
}
