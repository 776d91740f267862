package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
	"unicode"
)

// tableKey prefixes a format that renders as an aligned table with a header.
const tableKey = "table"

// funcs are Docker's template helpers.
var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimSpace(buf.String()), nil
	},
	"split":    strings.Split,
	"join":     strings.Join,
	"title":    title,
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"pad":      func(s string, l, r int) string { return strings.Repeat(" ", l) + s + strings.Repeat(" ", r) },
	"truncate": func(s string, n int) string { return Ellipsis(s, n) },
	"println":  func(args ...any) string { return fmt.Sprintln(args...) },
}

// headerFuncs replace the helpers while the header row is rendered: the header
// context holds column titles, which must come out unchanged.
var headerFuncs = template.FuncMap{
	"json":     func(v any) string { return fmt.Sprint(v) },
	"split":    func(v any, _ string) string { return fmt.Sprint(v) },
	"join":     func(v any, _ string) string { return fmt.Sprint(v) },
	"title":    func(v any) string { return fmt.Sprint(v) },
	"lower":    func(v any) string { return fmt.Sprint(v) },
	"upper":    func(v any) string { return fmt.Sprint(v) },
	"pad":      func(v any, _, _ int) string { return fmt.Sprint(v) },
	"truncate": func(v any, _ int) string { return fmt.Sprint(v) },
}

func title(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		defer func() { prev = r }()
		if unicode.IsSpace(prev) || prev == '-' || prev == '_' {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

// Parse compiles a user template with Docker's helper functions. The escapes
// `\t` and `\n` written literally on a command line become tab and newline.
func Parse(format string) (*template.Template, error) {
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	t, err := template.New("").Funcs(funcs).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("template parsing error: %w", err)
	}
	return t, nil
}

// IsTable reports whether format asks for a table ("table ..." or "table").
func IsTable(format string) bool {
	return strings.HasPrefix(format, tableKey)
}

// ListFormat is the template a list command prints with: quietFormat
// (e.g. "{{.ID}}") with -q, table for an empty or "table" --format, else
// the --format given.
func ListFormat(format string, quiet bool, quietFormat, table string) string {
	switch {
	case quiet:
		return quietFormat
	case format == "" || format == tableKey:
		return table
	}
	return format
}

// Writer renders a list of items with one template, one line per item. For
// a table format it first writes a header row and aligns all columns.
type Writer struct {
	out    io.Writer
	tw     *tabwriter.Writer
	tmpl   *template.Template
	header map[string]string
	table  bool
	wrote  bool
}

// NewWriter prepares a Writer for format (a "table ..." or plain Go
// template, or "json" for one JSON object per line). header maps the field
// names used by the template to column titles.
func NewWriter(out io.Writer, format string, header map[string]string) (*Writer, error) {
	w := &Writer{out: out, header: header}
	if format == "json" {
		format = "{{json .}}"
	}
	if IsTable(format) {
		w.table = true
		format = strings.TrimPrefix(format, tableKey)
		format = strings.TrimLeft(format, " ")
	}
	t, err := Parse(format)
	if err != nil {
		return nil, err
	}
	w.tmpl = t
	if w.table {
		w.tw = tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
	}
	return w, nil
}

// Write renders one item.
func (w *Writer) Write(item any) error {
	if w.table && !w.wrote {
		w.writeHeader()
	}
	w.wrote = true
	var buf bytes.Buffer
	if err := w.tmpl.Execute(&buf, item); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	buf.WriteByte('\n')
	if w.table {
		_, err := w.tw.Write(buf.Bytes())
		return err
	}
	_, err := w.out.Write(buf.Bytes())
	return err
}

func (w *Writer) writeHeader() {
	if w.header == nil {
		return
	}
	// Header rendering is best effort: a template that calls methods the
	// header map lacks (e.g. .Label "x") just gets no header.
	t, err := w.tmpl.Clone()
	if err != nil {
		return
	}
	var buf bytes.Buffer
	if err := t.Funcs(headerFuncs).Option("missingkey=zero").Execute(&buf, w.header); err != nil {
		return
	}
	buf.WriteByte('\n')
	_, _ = w.tw.Write(buf.Bytes())
}

// Flush finishes the output; a table with no items still gets its header.
func (w *Writer) Flush() error {
	if !w.table {
		return nil
	}
	if !w.wrote {
		w.writeHeader()
	}
	return w.tw.Flush()
}

// WriteAll renders items with format, as NewWriter, Write and Flush do.
func WriteAll[T any](out io.Writer, format string, header map[string]string, items []T) error {
	w, err := NewWriter(out, format, header)
	if err != nil {
		return err
	}
	for _, item := range items {
		if err := w.Write(item); err != nil {
			return err
		}
	}
	return w.Flush()
}
