package audit

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/api/types/berth"
)

func file(p string, size int64, inImage bool) berth.Write {
	return berth.Write{Path: p, Kind: "file", Size: size, InImage: inImage}
}

func dir(p string, inImage bool) berth.Write {
	return berth.Write{Path: p, Kind: "dir", InImage: inImage}
}

// appWrites are what the integration tests' application writes.
var appWrites = berth.Writes{
	Changes: []berth.Write{
		dir("/run", true), dir("/run/app", false), file("/run/app/app.pid", 2, false),
		dir("/tmp", true), file("/tmp/scratch.txt", 8, false),
		dir("/var", true), dir("/var/cache", true), dir("/var/cache/app", true), file("/var/cache/app/cache.bin", 3<<20, false),
	},
	Volumes: []berth.VolumeUsage{{Destination: "/data", Name: "0123", Anonymous: true, Bytes: 7}},
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		vols     []string
		writes   berth.Writes
		want     []Group
		warnings int
	}{
		{name: "application", vols: []string{"/data"}, writes: appWrites, want: []Group{
			{Path: "/data", Class: Volume, Bytes: 7, VolumeName: "app-data", Reason: "image VOLUME"},
			{Path: "/run", Class: Tmpfs, Bytes: 2, Entries: 2, Size: "1m"},
			{Path: "/tmp", Class: Tmpfs, Bytes: 8, Entries: 1, Size: "1m"},
			{Path: "/var/cache/app", Class: Tmpfs, Bytes: 3 << 20, Entries: 1, Size: "8m"},
		}},
		{name: "nested groups collapse into the outer", writes: berth.Writes{Changes: []berth.Write{
			dir("/etc", true), file("/etc/app.conf", 10, true), dir("/etc/app", true), file("/etc/app/x", 5, false),
		}}, want: []Group{{Path: "/etc", Class: Tmpfs, Bytes: 15, Entries: 2, Size: "1m"}}},
		{name: "new directory tree anchors at its image parent", writes: berth.Writes{Changes: []berth.Write{
			dir("/var", true), dir("/var/log", true), dir("/var/log/nginx", false), dir("/var/log/nginx/x", false), file("/var/log/nginx/x/a.log", 100, false),
		}}, want: []Group{{Path: "/var/log", Class: Tmpfs, Bytes: 100, Entries: 3, Size: "1m"}}},
		{name: "data paths are volumes even when created", writes: berth.Writes{Changes: []berth.Write{
			dir("/var", true), dir("/var/lib", true), dir("/var/lib/postgresql", false), file("/var/lib/postgresql/pg.data", 1000, false),
		}}, want: []Group{{Path: "/var/lib/postgresql", Class: Volume, Bytes: 1000, Entries: 2, VolumeName: "app-var-lib-postgresql", Reason: "data path"}}},
		{name: "deletion needs a tmpfs too", writes: berth.Writes{Changes: []berth.Write{
			dir("/etc", true), {Path: "/etc/motd", Kind: "deleted", InImage: true},
		}}, want: []Group{{Path: "/etc", Class: Tmpfs, Entries: 1, Size: "1m"}}},
		{name: "root writes are warned about", writes: berth.Writes{Changes: []berth.Write{file("/app.lock", 1, false), dir("/tmp", true), file("/tmp/x", 1, false)}, Truncated: true},
			want: []Group{{Path: "/tmp", Class: Tmpfs, Bytes: 1, Entries: 1, Size: "1m"}}, warnings: 2},
		{name: "a new top-level directory is its own tmpfs", writes: berth.Writes{Changes: []berth.Write{dir("/state", false), dir("/state/a", false), file("/state/a/x", 1, false)}},
			want: []Group{{Path: "/state", Class: Tmpfs, Bytes: 1, Entries: 3, Size: "1m"}}},
		{name: "nothing", writes: berth.Writes{}, want: []Group{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Analyze("registry.example/team/app:v1", nil, tc.vols, tc.writes)
			assert.Check(t, is.DeepEqual(r.Groups, tc.want))
			assert.Check(t, is.Len(r.Warnings, tc.warnings))
		})
	}
}

func TestHeadroom(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "1m", 1: "1m", 512 << 10: "1m", 600 << 10: "2m", 3 << 20: "8m", 4 << 20: "8m", 5 << 20: "16m"} {
		assert.Check(t, is.Equal(Headroom(n), want), "%d", n)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	r := Analyze("prodapp:v1", []string{"sh", "-c", "it's"}, []string{"/data"}, appWrites)
	assert.Equal(t, r.FlagsLine(), "--read-only --tmpfs /run:size=1m --tmpfs /tmp:size=1m --tmpfs /var/cache/app:size=8m -v prodapp-data:/data")
	assert.Equal(t, r.Labels(), `LABEL io.berth.read-only="true" io.berth.tmpfs="/run:size=1m /tmp:size=1m /var/cache/app:size=8m"`+"\n")
	assert.Equal(t, r.Compose(), `version: "2.4"
services:
  prodapp:
    image: "prodapp:v1"
    command: ["sh","-c","it's"]
    read_only: true
    tmpfs:
      - "/run:size=1m"
      - "/tmp:size=1m"
      - "/var/cache/app:size=8m"
    volumes:
      - "prodapp-data:/data"
volumes:
  prodapp-data: {}
`)
	r = Analyze("db", nil, nil, berth.Writes{Changes: []berth.Write{file("/var/lib/mysql/ibdata", 10, false), file("/tmp/a b", 1, false)}})
	assert.Equal(t, r.Labels(), `LABEL io.berth.read-only="true" io.berth.tmpfs="/tmp:size=1m"`+"\nVOLUME [\"/var/lib/mysql\"]\n")
	assert.Equal(t, shellQuote("a b'c"), `'a b'\''c'`)
}

func TestMerge(t *testing.T) {
	t.Parallel()
	before := berth.Writes{Changes: []berth.Write{
		{Path: "/run", Kind: "dir", InImage: true},
		{Path: "/run/app.pid", Kind: "file", Size: 6},
		{Path: "/var/log/app.log", Kind: "file", Size: 10},
	}, Volumes: []berth.VolumeUsage{{Destination: "/data", Bytes: 1}}}
	after := berth.Writes{Changes: []berth.Write{
		{Path: "/run", Kind: "dir", InImage: true},
		{Path: "/var/log/app.log", Kind: "file", Size: 30},
		{Path: "/var/log/shutdown", Kind: "file", Size: 4},
	}, Volumes: []berth.VolumeUsage{{Destination: "/data", Bytes: 5}}, Truncated: true}
	got := Merge(before, after)
	assert.DeepEqual(t, got, berth.Writes{Changes: []berth.Write{
		{Path: "/run", Kind: "dir", InImage: true},
		{Path: "/run/app.pid", Kind: "file", Size: 6},
		{Path: "/var/log/app.log", Kind: "file", Size: 30},
		{Path: "/var/log/shutdown", Kind: "file", Size: 4},
	}, Volumes: []berth.VolumeUsage{{Destination: "/data", Bytes: 5}}, Truncated: true})
	assert.DeepEqual(t, Merge(berth.Writes{}, berth.Writes{}), berth.Writes{})
}
