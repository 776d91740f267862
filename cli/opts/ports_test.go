package opts

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	networktypes "github.com/moby/moby/api/types/network"
	"gotest.tools/v3/assert"
)

func TestParsePublish(t *testing.T) {
	t.Parallel()
	show := func(m networktypes.PortMap) string {
		var out []string
		for p, bs := range m {
			for _, b := range bs {
				ip := ""
				if b.HostIP.IsValid() {
					ip = b.HostIP.String()
				}
				out = append(out, fmt.Sprintf("%s=%s:%s", p, ip, b.HostPort))
			}
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	for _, tc := range []struct{ in, want, err string }{
		{in: "80", want: "80/tcp=:"},
		{in: "8080:80", want: "80/tcp=:8080"},
		{in: "127.0.0.1:8080:80/udp", want: "80/udp=127.0.0.1:8080"},
		{in: "127.0.0.1::80", want: "80/tcp=127.0.0.1:"},
		{in: "[::1]:8080:80", want: "80/tcp=::1:8080"},
		{in: "8000-8001:80-81", want: "80/tcp=:8000 81/tcp=:8001"},
		{in: "8000-8010:80", want: "80/tcp=:8000-8010"},
		{in: "80-81", want: "80/tcp=: 81/tcp=:"},
		{in: "8000-8002:80-81", err: "invalid ranges"},
		{in: "x:80", err: "invalid hostPort: x"},
		{in: "80/icmp", err: "invalid proto: icmp"},
		{in: "1.2.3:80:80", err: "invalid IP address"},
		{in: "a:b:c:d", err: "invalid port format"},
		{in: "8080:", err: "no port specified"},
		{in: "99999", err: "invalid containerPort"},
	} {
		_, got, err := ParsePublish([]string{tc.in})
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		assert.NilError(t, err, tc.in)
		assert.Equal(t, show(got), tc.want, tc.in)
	}
}

func TestParseExpose(t *testing.T) {
	t.Parallel()
	got, err := ParseExpose([]string{"80", "53/udp", "90-91"})
	assert.NilError(t, err)
	assert.Equal(t, len(got), 4)
	_, err = ParseExpose([]string{"x"})
	assert.ErrorContains(t, err, "invalid range format for --expose")
}

func FuzzParsePublish(f *testing.F) {
	for _, s := range []string{"80", "127.0.0.1:8080:80/udp", "[::1]:1:2", "1-2:3-4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		exposed, bindings, err := ParsePublish([]string{s})
		if err != nil {
			return
		}
		for p := range bindings {
			if _, ok := exposed[p]; !ok {
				t.Fatalf("%q: %s bound but not exposed", s, p)
			}
		}
	})
}
