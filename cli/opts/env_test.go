package opts

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	assert.NilError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestParseEnvFile(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "\xEF\xBB\xBFFOO=bar\n# comment\n\n   SPACED=  kept  \nFROM_ENV\nMISSING\nEMPTY=\nURL=a=b=c\n")
	got, err := ParseEnvFile(p, lookupFrom(map[string]string{"FROM_ENV": "x"}))
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []string{"FOO=bar", "SPACED=  kept  ", "FROM_ENV=x", "EMPTY=", "URL=a=b=c"})
}

func TestParseEnvFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ content, err string }{
		{"BAD KEY=1\n", "variable 'BAD KEY' contains whitespaces"},
		{"=value\n", "no variable name on line '=value'"},
		{"A=\xff\n", "contains invalid utf8 bytes at line 1"},
	}
	for _, tc := range tests {
		_, err := ParseEnvFile(writeFile(t, tc.content), lookupFrom(nil))
		assert.Check(t, is.ErrorContains(err, tc.err), tc.content)
	}
	_, err := ParseEnvFile(filepath.Join(t.TempDir(), "nope"), lookupFrom(nil))
	assert.Check(t, os.IsNotExist(err))
}

func TestParseLabelFile(t *testing.T) {
	t.Parallel()
	got, err := ParseLabelFile(writeFile(t, "a=1\n#x\nflag\n"))
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []string{"a=1", "flag"})
}

func TestExpandEnv(t *testing.T) {
	t.Parallel()
	lookup := lookupFrom(map[string]string{"HOME": "/root"})
	tests := []struct{ in, want, err string }{
		{"A=1", "A=1", ""},
		{"A=", "A=", ""},
		{"HOME", "HOME=/root", ""},
		{"UNSET", "UNSET", ""},
		{"=x", "", "invalid environment variable: =x"},
	}
	for _, tc := range tests {
		got, err := ExpandEnv(tc.in, lookup)
		if tc.err != "" {
			assert.Check(t, is.Error(err, tc.err))
			continue
		}
		assert.NilError(t, err)
		assert.Check(t, is.Equal(got, tc.want))
	}
}

func TestParseLabels(t *testing.T) {
	t.Parallel()
	got, err := ParseLabels([]string{"a=1", "b", "a=2", "c=x=y"})
	assert.NilError(t, err)
	assert.DeepEqual(t, got, map[string]string{"a": "2", "b": "", "c": "x=y"})
	none, err := ParseLabels(nil)
	assert.NilError(t, err)
	assert.Check(t, is.Nil(none))
	_, err = ParseLabels([]string{"=v"})
	assert.Check(t, is.ErrorContains(err, "empty name"))
}

func TestParseKeyValueMap(t *testing.T) {
	t.Parallel()
	got, err := ParseKeyValueMap("--opt", []string{"type=tmpfs", "o=size=1m,uid=1"})
	assert.NilError(t, err)
	assert.DeepEqual(t, got, map[string]string{"type": "tmpfs", "o": "size=1m,uid=1"})
	_, err = ParseKeyValueMap("--opt", []string{"device"})
	assert.Check(t, is.Error(err, "invalid --opt value 'device': must be key=value"))
}
