package container

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/api/types/berth"
)

func TestWriteTmpfsTable(t *testing.T) {
	var b strings.Builder
	err := writeTmpfsTable(&b, []berth.TmpfsUsage{
		{Destination: "/run", SizeBytes: 64 << 20, UsedBytes: 16 << 20, Mode: "0755", CopyUp: true},
		{Destination: "/tmp", SizeBytes: 1 << 30, UsedBytes: 1, Mode: "1777", UID: 1000, GID: 1000},
		{Destination: "/empty", Mode: "0700"},
	})
	assert.NilError(t, err)
	want := "" +
		"DESTINATION   SIZE    USED    USE%   MODE   OWNER       COPYUP\n" +
		"/run          64MiB   16MiB   25%    0755   0:0         yes\n" +
		"/tmp          1GiB    1B      1%     1777   1000:1000   no\n" +
		"/empty        0B      0B      -      0700   0:0         no\n"
	assert.Equal(t, b.String(), want)
}
