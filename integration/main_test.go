package integration

import (
	"os"
	"testing"

	"github.com/berth-project/berth/integration/internal/harness"
)

// TestMain removes the harness's shared files (test image, binaries)
// after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	harness.Cleanup()
	os.Exit(code)
}
