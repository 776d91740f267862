package daemon

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestParsePS(t *testing.T) {
	t.Parallel()
	out := `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 18:00 ?        00:00:01 /sbin/init
root         100       1  0 18:01 ?        00:00:00 sleep 300
1000         101     100  0 18:01 pts/0    00:00:00 sh -c  echo  a   b
root         200       1  0 18:02 ?        00:00:00 other
`
	resp, err := parsePS(out, []int{100, 101})
	assert.NilError(t, err)
	assert.DeepEqual(t, resp.Titles, []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"})
	assert.DeepEqual(t, resp.Processes, [][]string{
		{"root", "100", "1", "0", "18:01", "?", "00:00:00", "sleep 300"},
		{"1000", "101", "100", "0", "18:01", "pts/0", "00:00:00", "sh -c  echo  a   b"},
	})

	resp, err = parsePS("  PID COMMAND\n  100 sleep\n 7 x\n", []int{100})
	assert.NilError(t, err)
	assert.DeepEqual(t, resp.Processes, [][]string{{"100", "sleep"}})

	resp, err = parsePS("UID CMD\n", nil)
	assert.ErrorContains(t, err, "Couldn't find PID field in ps output")
	assert.Check(t, resp == nil)
}

func TestSplitN(t *testing.T) {
	t.Parallel()
	assert.DeepEqual(t, splitN("  a  b c  d e", 3), []string{"a", "b", "c  d e"})
	assert.DeepEqual(t, splitN("a", 3), []string{"a"})
}
