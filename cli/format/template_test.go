package format

import (
	"bytes"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

type row struct {
	Name  string
	Tags  []string
	Extra map[string]string
}

var rowHeader = map[string]string{"Name": "NAME", "Tags": "TAGS", "Extra": "EXTRA"}

func TestWriterTable(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w, err := NewWriter(&out, `table {{.Name}}\t{{join .Tags ","}}`, rowHeader)
	assert.NilError(t, err)
	assert.NilError(t, w.Write(row{Name: "a", Tags: []string{"x", "y"}}))
	assert.NilError(t, w.Write(row{Name: "longer-name", Tags: nil}))
	assert.NilError(t, w.Flush())
	assert.Check(t, is.Equal(out.String(),
		"NAME          TAGS\n"+
			"a             x,y\n"+
			"longer-name   \n"))
}

func TestWriterEmptyTableHasHeader(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w, err := NewWriter(&out, "table {{.Name}}\t{{upper .Name}}", rowHeader)
	assert.NilError(t, err)
	assert.NilError(t, w.Flush())
	assert.Check(t, is.Equal(out.String(), "NAME      NAME\n"))
}

func TestWriterPlainAndJSON(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w, err := NewWriter(&out, "{{.Name}}: {{json .Extra}} {{upper .Name}} {{title .Name}} {{truncate .Name 3}}", nil)
	assert.NilError(t, err)
	assert.NilError(t, w.Write(row{Name: "hello world", Extra: map[string]string{"k": "<v>"}}))
	assert.NilError(t, w.Flush())
	assert.Check(t, is.Equal(out.String(), `hello world: {"k":"<v>"} HELLO WORLD Hello World he…`+"\n"))

	out.Reset()
	w, err = NewWriter(&out, "json", nil)
	assert.NilError(t, err)
	assert.NilError(t, w.Write(row{Name: "n"}))
	assert.Check(t, is.Equal(out.String(), `{"Name":"n","Tags":null,"Extra":null}`+"\n"))
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	_, err := NewWriter(&bytes.Buffer{}, "{{.Name", nil)
	assert.Check(t, is.ErrorContains(err, "template parsing error"))

	w, err := NewWriter(&bytes.Buffer{}, "{{.Missing}}", nil)
	assert.NilError(t, err)
	assert.Check(t, is.ErrorContains(w.Write(row{}), "can't evaluate field Missing"))
}

func TestListFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format string
		quiet  bool
		want   string
	}{
		{format: "", want: "table {{.ID}}\t{{.Name}}"},
		{format: "table", want: "table {{.ID}}\t{{.Name}}"},
		{format: "table {{.Name}}", want: "table {{.Name}}"},
		{format: "json", want: "json"},
		{format: "{{.Name}}", quiet: true, want: "{{.ID}}"},
	} {
		assert.Check(t, is.Equal(ListFormat(tc.format, tc.quiet, "{{.ID}}", "table {{.ID}}\t{{.Name}}"), tc.want), "%q quiet=%v", tc.format, tc.quiet)
	}
}

func TestWriteAll(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	assert.NilError(t, WriteAll(&out, "table {{.Name}}", rowHeader, []row{{Name: "a"}, {Name: "b"}}))
	assert.Check(t, is.Equal(out.String(), "NAME\na\nb\n"))
	out.Reset()
	assert.NilError(t, WriteAll(&out, "table {{.Name}}", rowHeader, []row(nil)))
	assert.Check(t, is.Equal(out.String(), "NAME\n"))
	assert.Check(t, is.ErrorContains(WriteAll(&out, "{{.Name", rowHeader, []row(nil)), "template parsing error"))
}
