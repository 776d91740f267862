package opts

import (
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestParseTmpfs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, dest, opts string
	}{
		{"/run", "/run", ""},
		{"/run:", "/run", ""},
		{"/run/", "/run", ""},
		{"//tmp//x/", "/tmp/x", ""},
		{"/tmp:size=64m", "/tmp", "size=64m"},
		{"/tmp:rw,size=1g:x", "/tmp", "rw,size=1g:x"},
		{"/tmp:rw,exec,uid=1000", "/tmp", "rw,exec,uid=1000"},
		{":size=1m", "", "size=1m"},
	}
	for _, tc := range tests {
		dest, opts := ParseTmpfs(tc.in)
		assert.Check(t, is.Equal(dest, tc.dest), tc.in)
		assert.Check(t, is.Equal(opts, tc.opts), tc.in)
	}
}

func TestTmpfsOpt(t *testing.T) {
	t.Parallel()
	var o TmpfsOpt
	assert.Check(t, is.Nil(o.Value()))
	assert.NilError(t, o.Set("/run"))
	assert.NilError(t, o.Set("/tmp:size=64m,mode=1777"))
	assert.DeepEqual(t, o.Value(), map[string]string{"/run": "", "/tmp": "size=64m,mode=1777"})
	assert.Check(t, is.Equal(o.String(), "[/run /tmp:size=64m,mode=1777]"))

	err := o.Set("/run/:size=1m")
	assert.Check(t, is.Error(err, "Duplicate mount point: /run"))
	assert.Check(t, errdefs.IsInvalidArgument(err))
	// The refused value leaves the earlier one untouched.
	assert.Check(t, is.Equal(o.Value()["/run"], ""))
}
