package shim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestListenConsole(t *testing.T) {
	short := filepath.Join(t.TempDir(), "c.sock")
	l, path, cleanup, err := listenConsole(short)
	assert.NilError(t, err)
	assert.Equal(t, path, short)
	assert.Assert(t, l != nil)
	cleanup()
	_, err = os.Stat(short)
	assert.Check(t, os.IsNotExist(err), "cleanup removes the socket")

	// State directories are deep: a path too long for a socket address
	// moves to a short temporary directory.
	long := filepath.Join(t.TempDir(), strings.Repeat("x", 100), "console.sock")
	l, path, cleanup, err = listenConsole(long)
	assert.NilError(t, err)
	assert.Check(t, len(path) <= maxSocketPath, path)
	assert.Check(t, path != long)
	assert.Assert(t, l != nil)
	cleanup()
	_, err = os.Stat(filepath.Dir(path))
	assert.Check(t, os.IsNotExist(err), "cleanup removes the temporary directory")
}
