package runtrace

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace")
	t.Setenv(Env, path)
	Mark("api begin", "POST", "/x\ny")
	Mark("end")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", data)
	}
	f := strings.SplitN(lines[0], " ", 3)
	if _, err := strconv.ParseInt(f[0], 10, 64); err != nil {
		t.Errorf("time %q: %v", f[0], err)
	}
	if f[1] != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid %q, want %d", f[1], os.Getpid())
	}
	if f[2] != "api begin POST /x y" {
		t.Errorf("event %q", f[2])
	}
	if !strings.HasSuffix(lines[1], " end") {
		t.Errorf("second line %q", lines[1])
	}
}
