package shim

import (
	"strings"
	"testing"
)

func TestValidExecID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"", false},
		{"a", true},
		{"0123456789abcdef", true},
		{"A-Z_a.z-09", true},
		{strings.Repeat("x", 128), true},
		{strings.Repeat("x", 129), false},
		{"../x", false},
		{"a/b", false},
		{"a b", false},
		{"é", false},
		{"a\x00", false},
		{"a\n", false},
	} {
		if got := validExecID(tc.id); got != tc.want {
			t.Errorf("validExecID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
