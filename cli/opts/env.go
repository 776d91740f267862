package opts

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ExpandEnv completes one -e/--env value: "K=V" is kept, a bare "K" takes
// its value from lookup when set there and is otherwise passed as "K" (the
// daemon then leaves it unset), as Docker does. An empty name is an error.
func ExpandEnv(value string, lookup func(string) (string, bool)) (string, error) {
	k, _, hasValue := strings.Cut(value, "=")
	if k == "" {
		return "", invalidf("invalid environment variable: %s", value)
	}
	if hasValue {
		return value, nil
	}
	if v, ok := lookup(k); ok {
		return k + "=" + v, nil
	}
	return value, nil
}

// ParseEnvFile reads an --env-file: one variable per line, "K=V" or a bare
// "K" taken from lookup (and dropped when lookup has no such variable);
// blank lines and lines starting with '#' are skipped; leading whitespace
// is ignored; the name must not contain whitespace.
func ParseEnvFile(name string, lookup func(string) (string, bool)) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseKeyValueLines(f, name, lookup)
}

// ParseLabelFile reads a --label-file: the same line format as an env file,
// without environment lookup (a bare key is a label with an empty value).
func ParseLabelFile(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseKeyValueLines(f, name, nil)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func parseKeyValueLines(r io.Reader, name string, lookup func(string) (string, bool)) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Bytes()
		if n == 1 {
			raw = bytes.TrimPrefix(raw, utf8BOM)
		}
		if !utf8.Valid(raw) {
			return nil, invalidf("env file %s contains invalid utf8 bytes at line %d: %v", name, n, raw)
		}
		line := strings.TrimLeftFunc(string(raw), unicode.IsSpace)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, hasValue := strings.Cut(line, "=")
		if key == "" {
			return nil, invalidf("no variable name on line '%s'", line)
		}
		if strings.ContainsFunc(key, unicode.IsSpace) {
			return nil, invalidf("variable '%s' contains whitespaces", key)
		}
		switch {
		case hasValue:
			lines = append(lines, key+"="+value)
		case lookup == nil:
			lines = append(lines, key)
		default:
			if v, ok := lookup(key); ok {
				lines = append(lines, key+"="+v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return lines, nil
}

// ParseLabels turns "k=v" / "k" strings into a label map; later values win.
// An empty key is an error.
func ParseLabels(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	labels := make(map[string]string, len(values))
	for _, v := range values {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return nil, invalidf("invalid label '%s': empty name", v)
		}
		labels[k] = val
	}
	return labels, nil
}

// ParseKeyValueMap turns "k=v" strings (driver options) into a map; a value
// without '=' is an error naming the flag.
func ParseKeyValueMap(flag string, values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(values))
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, invalidf("invalid %s value '%s': must be key=value", flag, v)
		}
		m[k] = val
	}
	return m, nil
}
