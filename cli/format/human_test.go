package format

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0B"},
		{999, "999B"},
		{1000, "1kB"},
		{4_270_000, "4.27MB"},
		{4_266_123, "4.27MB"},
		{1_500_000_000, "1.5GB"},
	}
	for _, tc := range tests {
		assert.Check(t, is.Equal(Size(tc.in), tc.want), tc.in)
	}
	assert.Check(t, is.Equal(BinarySize(24*1<<30), "24GiB"))
}

func TestSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "Less than a second ago"},
		{time.Second, "1 second ago"},
		{3 * time.Second, "3 seconds ago"},
		{90 * time.Second, "About a minute ago"},
		{2 * time.Minute, "2 minutes ago"},
		{time.Hour, "About an hour ago"},
		{5 * time.Hour, "5 hours ago"},
		{3 * 24 * time.Hour, "3 days ago"},
		{3 * 7 * 24 * time.Hour, "3 weeks ago"},
	}
	for _, tc := range tests {
		assert.Check(t, is.Equal(Since(now.Add(-tc.ago), now), tc.want), tc.ago)
	}
	assert.Check(t, is.Equal(SinceUnix(now.Unix()-120, now), "2 minutes ago"))
}

func TestContainerStatus(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	started := now.Add(-3 * time.Second)
	finished := now.Add(-2 * time.Minute)
	tests := []struct {
		state string
		code  int
		want  string
	}{
		{"created", 0, "Created"},
		{"", 0, "Created"},
		{"running", 0, "Up 3 seconds"},
		{"paused", 0, "Up 3 seconds (Paused)"},
		{"restarting", 1, "Restarting (1) 2 minutes ago"},
		{"exited", 0, "Exited (0) 2 minutes ago"},
		{"exited", 137, "Exited (137) 2 minutes ago"},
		{"removing", 0, "Removal In Progress"},
		{"dead", 0, "Dead"},
	}
	for _, tc := range tests {
		assert.Check(t, is.Equal(ContainerStatus(tc.state, tc.code, started, finished, now), tc.want), tc.state)
	}
	assert.Check(t, is.Equal(ContainerStatus("exited", 2, time.Time{}, time.Time{}, now), "Exited (2)"))
}

func TestEllipsis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"sleep 3600", 20, "sleep 3600"},
		{"/docker-entrypoint.sh nginx -g 'daemon off;'", 20, "/docker-entrypoint.…"},
		{"12345678901234567890", 20, "12345678901234567890"},
		{"héllo wörld", 5, "héll…"},
		{"abc", 1, "a"},
		{"abc", 0, ""},
	}
	for _, tc := range tests {
		assert.Check(t, is.Equal(Ellipsis(tc.in, tc.max), tc.want), tc.in)
	}
}

func TestTruncateID(t *testing.T) {
	t.Parallel()
	assert.Check(t, is.Equal(TruncateID("sha256:0123456789abcdef0123"), "0123456789ab"))
	assert.Check(t, is.Equal(TruncateID("0123456789abcdef0123"), "0123456789ab"))
	assert.Check(t, is.Equal(TruncateID("abc"), "abc"))
}
