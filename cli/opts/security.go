package opts

import (
	"bytes"
	"encoding/json"
	"strings"
)

// SecurityOpts is what the --security-opt values become in a create
// request, as the docker CLI sends them.
type SecurityOpts struct {
	// SecurityOpt are the values for HostConfig.SecurityOpt, with
	// seccomp=FILE replaced by seccomp=<the file's compact JSON>.
	SecurityOpt []string
	// MaskedPaths and ReadonlyPaths are empty, not nil, after
	// systempaths=unconfined, which the docker CLI sends that way.
	MaskedPaths, ReadonlyPaths []string
}

// ParseSecurityOpts checks the form of --security-opt values as the docker
// CLI does (KEY=VALUE or the deprecated KEY:VALUE; no-new-privileges alone)
// and reads a seccomp profile file with readFile, sending its content: the
// daemon cannot read the client's files. The daemon validates the rest.
func ParseSecurityOpts(values []string, readFile func(string) ([]byte, error)) (SecurityOpts, error) {
	var out SecurityOpts
	for _, opt := range values {
		if opt == "systempaths=unconfined" {
			out.MaskedPaths, out.ReadonlyPaths = []string{}, []string{}
			continue
		}
		k, v, ok := strings.Cut(opt, "=")
		if !ok && k != "no-new-privileges" {
			k, v, ok = strings.Cut(opt, ":")
		}
		if (!ok || v == "") && k != "no-new-privileges" {
			return SecurityOpts{}, invalidf("Invalid --security-opt: %q", opt)
		}
		if k == "seccomp" && v != "unconfined" && v != "builtin" {
			data, err := readFile(v)
			if err != nil {
				return SecurityOpts{}, invalidf("opening seccomp profile (%s) failed: %v", v, err)
			}
			var b bytes.Buffer
			if err := json.Compact(&b, data); err != nil {
				return SecurityOpts{}, invalidf("compacting json for seccomp profile (%s) failed: %v", v, err)
			}
			opt = "seccomp=" + b.String()
		}
		out.SecurityOpt = append(out.SecurityOpt, opt)
	}
	return out, nil
}
