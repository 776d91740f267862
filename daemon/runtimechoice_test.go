package daemon

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultRuntime(t *testing.T) {
	hybrid := errors.New("cgroups in hybrid mode not supported")
	for _, tc := range []struct {
		configured string
		crunErr    error
		want       string
		reason     string
	}{
		{"", nil, "crun", "crun runs containers"},
		{"", hybrid, "runc", "crun cannot run containers on this host: cgroups in hybrid mode"},
		{"runc", nil, "runc", "configured"},
		{"crun", hybrid, "crun", "configured"},
		{"/opt/bin/runc", nil, "/opt/bin/runc", "configured"},
	} {
		name, reason := defaultRuntime(tc.configured, tc.crunErr)
		if name != tc.want || !strings.Contains(reason, tc.reason) {
			t.Errorf("defaultRuntime(%q, %v) = %q, %q; want %q, reason with %q", tc.configured, tc.crunErr, name, reason, tc.want, tc.reason)
		}
	}
}
