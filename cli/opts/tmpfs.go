package opts

import (
	"path"
	"sort"
	"strings"
)

// ParseTmpfs splits a --tmpfs value at its first ':' into a cleaned
// destination path and the raw option string. The options are never split
// on commas here: the daemon validates them.
func ParseTmpfs(value string) (dest, options string) {
	dest, options, _ = strings.Cut(value, ":")
	if dest != "" {
		dest = path.Clean(dest)
	}
	return dest, options
}

// TmpfsOpt is the repeatable --tmpfs flag. It refuses the same destination
// twice instead of silently keeping the last one.
type TmpfsOpt struct {
	values map[string]string
}

// Set implements pflag.Value.
func (o *TmpfsOpt) Set(value string) error {
	dest, options := ParseTmpfs(value)
	if _, dup := o.values[dest]; dup {
		return invalidf("Duplicate mount point: %s", dest)
	}
	if o.values == nil {
		o.values = map[string]string{}
	}
	o.values[dest] = options
	return nil
}

// Type implements pflag.Value.
func (o *TmpfsOpt) Type() string { return "list" }

// String implements pflag.Value.
func (o *TmpfsOpt) String() string {
	keys := make([]string, 0, len(o.values))
	for k := range o.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if v := o.values[k]; v != "" {
			parts = append(parts, k+":"+v)
		} else {
			parts = append(parts, k)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Value returns the map to send as HostConfig.Tmpfs, or nil when the flag was
// never given.
func (o *TmpfsOpt) Value() map[string]string {
	if len(o.values) == 0 {
		return nil
	}
	out := make(map[string]string, len(o.values))
	for k, v := range o.values {
		out[k] = v
	}
	return out
}
