package images

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// commitInstructions are the Dockerfile instructions `docker import
// --change` accepts.
var commitInstructions = map[string]bool{
	"cmd": true, "entrypoint": true, "env": true, "expose": true, "healthcheck": true, "label": true,
	"onbuild": true, "stopsignal": true, "user": true, "volume": true, "workdir": true,
}

// otherInstructions are valid Dockerfile instructions that make no sense as
// a change; they get Docker's "not a valid change command" error.
var otherInstructions = map[string]bool{
	"from": true, "run": true, "copy": true, "add": true, "arg": true, "maintainer": true, "shell": true,
}

func invalidChange(format string, args ...any) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, args...))
}

// applyChanges applies Dockerfile instructions to cfg, as `docker import
// --change` and `docker commit --change` do. Each change may hold several
// lines.
func applyChanges(cfg *dockerspec.DockerOCIImageConfig, changes []string) error {
	cmdSet := false
	for _, change := range changes {
		for _, line := range joinContinuations(change) {
			if err := applyChange(cfg, line, &cmdSet); err != nil {
				return err
			}
		}
	}
	return nil
}

// joinContinuations splits a change into instructions, joining lines that
// end with a backslash and dropping blank lines and comments.
func joinContinuations(change string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(change, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if cur.Len() == 0 && (strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(l, `\`); ok {
			cur.WriteString(s)
			continue
		}
		cur.WriteString(l)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func applyChange(cfg *dockerspec.DockerOCIImageConfig, line string, cmdSet *bool) error {
	line = strings.TrimSpace(line)
	word, rest := cutWord(line)
	instr := strings.ToLower(word)
	if !commitInstructions[instr] {
		if otherInstructions[instr] {
			return invalidChange("%s is not a valid change command", instr)
		}
		return invalidChange("dockerfile parse error on line 1: unknown instruction: %s", strings.ToUpper(word))
	}
	name := strings.ToUpper(word)
	env := envLookup(cfg.Env)

	switch instr {
	case "cmd":
		args, err := commandArgs(name, rest, cfg.Shell)
		if err != nil {
			return err
		}
		cfg.Cmd = args
		*cmdSet = true
	case "entrypoint":
		args, err := commandArgs(name, rest, cfg.Shell)
		if err != nil {
			return err
		}
		cfg.Entrypoint = args
		if !*cmdSet {
			cfg.Cmd = nil
		}
	case "env":
		pairs, err := nameValues(name, rest, env)
		if err != nil {
			return err
		}
		for _, kv := range pairs {
			cfg.Env = setEnv(cfg.Env, kv[0], kv[1])
		}
	case "label":
		pairs, err := nameValues(name, rest, env)
		if err != nil {
			return err
		}
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range pairs {
			cfg.Labels[kv[0]] = kv[1]
		}
	case "user", "stopsignal", "workdir":
		v, err := singleWord(name, rest, env)
		if err != nil {
			return err
		}
		switch instr {
		case "user":
			cfg.User = v
		case "stopsignal":
			cfg.StopSignal = v
		case "workdir":
			if !path.IsAbs(v) {
				v = path.Join("/", cfg.WorkingDir, v)
			}
			cfg.WorkingDir = path.Clean(v)
		}
	case "volume":
		vols, ok := jsonArray(rest)
		if !ok {
			var err error
			if vols, err = lex(rest, env, true); err != nil {
				return invalidChange("%s: %v", name, err)
			}
		}
		if len(vols) == 0 {
			return invalidChange("VOLUME requires at least one argument")
		}
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range vols {
			if strings.TrimSpace(v) == "" {
				return invalidChange("VOLUME specified can not be an empty string")
			}
			cfg.Volumes[strings.TrimSpace(v)] = struct{}{}
		}
	case "expose":
		specs, err := lex(rest, env, true)
		if err != nil {
			return invalidChange("%s: %v", name, err)
		}
		if len(specs) == 0 {
			return invalidChange("EXPOSE requires at least one argument")
		}
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, spec := range specs {
			ports, err := parseExpose(spec)
			if err != nil {
				return err
			}
			for _, p := range ports {
				cfg.ExposedPorts[p] = struct{}{}
			}
		}
	case "healthcheck":
		hc, err := parseHealthcheck(rest)
		if err != nil {
			return err
		}
		cfg.Healthcheck = hc
	case "onbuild":
		trigger, _ := cutWord(rest)
		switch t := strings.ToUpper(trigger); t {
		case "":
			return invalidChange("ONBUILD requires at least one argument")
		case "ONBUILD", "FROM", "MAINTAINER":
			return invalidChange("%s isn't allowed as an ONBUILD trigger", t)
		}
		cfg.OnBuild = append(cfg.OnBuild, rest)
	}
	return nil
}

// commandArgs parses the exec form (JSON array) or shell form of CMD and
// ENTRYPOINT.
func commandArgs(name, rest string, shell []string) ([]string, error) {
	if args, ok := jsonArray(rest); ok {
		return args, nil
	}
	if rest == "" {
		return nil, invalidChange("%s requires at least one argument", name)
	}
	if len(shell) == 0 {
		shell = []string{"/bin/sh", "-c"}
	}
	return append(append([]string{}, shell...), rest), nil
}

// jsonArray parses s as a JSON array of strings (Dockerfile exec form).
func jsonArray(s string) ([]string, bool) {
	if !strings.HasPrefix(s, "[") {
		return nil, false
	}
	var args []string
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		return nil, false
	}
	if args == nil {
		args = []string{}
	}
	return args, true
}

// nameValues parses "a=b c=d" or the legacy "a b c" (name a, value "b c").
func nameValues(name, rest string, env func(string) (string, bool)) ([][2]string, error) {
	words, err := lex(rest, env, true)
	if err != nil {
		return nil, invalidChange("%s: %v", name, err)
	}
	if len(words) == 0 {
		return nil, invalidChange("%s requires at least one argument", name)
	}
	if !strings.Contains(words[0], "=") {
		key, value := cutWord(rest)
		if value == "" {
			return nil, invalidChange("%s must have two arguments", name)
		}
		vals, err := lex(value, env, false)
		if err != nil {
			return nil, invalidChange("%s: %v", name, err)
		}
		if len(vals) == 0 {
			return nil, invalidChange("%s must have two arguments", name)
		}
		return [][2]string{{key, vals[0]}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, invalidChange("Syntax error - can't find = in %q. Must be of the form: name=value", w)
		}
		if k == "" {
			return nil, invalidChange("%s names can not be blank", name)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// cutWord splits s at its first run of blanks; rest is trimmed.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i+1:])
}

func singleWord(name, rest string, env func(string) (string, bool)) (string, error) {
	words, err := lex(rest, env, false)
	if err != nil {
		return "", invalidChange("%s: %v", name, err)
	}
	if len(words) == 0 || strings.TrimSpace(words[0]) == "" {
		return "", invalidChange("%s requires exactly one argument", name)
	}
	return strings.TrimSpace(words[0]), nil
}

func envLookup(env []string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, _ := strings.Cut(env[i], "="); k == name {
				return v, true
			}
		}
		return "", false
	}
}

func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

// lex processes Dockerfile words: single and double quotes, backslash
// escapes and $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt} expansion. With
// split, unquoted whitespace separates words; otherwise the result is one
// word.
func lex(s string, env func(string) (string, bool), split bool) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case split && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			continue
		case c == '\\':
			if i+1 < len(rs) {
				i++
				cur.WriteRune(rs[i])
			} else {
				cur.WriteRune(c)
			}
		case c == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unexpected end of statement while looking for matching single-quote")
			}
			cur.WriteString(string(rs[i+1 : j]))
			i = j
		case c == '"':
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				switch {
				case rs[j] == '\\' && j+1 < len(rs) && strings.ContainsRune(`"$\`, rs[j+1]):
					j++
					cur.WriteRune(rs[j])
				case rs[j] == '$':
					n, err := expand(rs, j, env, &cur)
					if err != nil {
						return nil, err
					}
					j = n
				default:
					cur.WriteRune(rs[j])
				}
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unexpected end of statement while looking for matching double-quote")
			}
			i = j
		case c == '$':
			n, err := expand(rs, i, env, &cur)
			if err != nil {
				return nil, err
			}
			i = n
		default:
			cur.WriteRune(c)
		}
		inWord = true
	}
	if inWord || (!split && len(words) == 0) {
		words = append(words, cur.String())
	}
	return words, nil
}

// expand writes the expansion of the variable starting at rs[i] == '$' and
// returns the index of its last rune.
func expand(rs []rune, i int, env func(string) (string, bool), out *strings.Builder) (int, error) {
	isName := func(r rune) bool {
		return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
	}
	if i+1 < len(rs) && rs[i+1] == '{' {
		end := i + 2
		for end < len(rs) && rs[end] != '}' {
			end++
		}
		if end == len(rs) {
			return 0, fmt.Errorf("missing '}' in %q", string(rs[i:]))
		}
		expr := string(rs[i+2 : end])
		name, word, op := expr, "", ""
		if k := strings.Index(expr, ":"); k >= 0 && k+1 < len(expr) {
			name, op, word = expr[:k], expr[k:k+2], expr[k+2:]
		}
		v, ok := env(name)
		switch op {
		case "":
			out.WriteString(v)
		case ":-":
			if !ok || v == "" {
				v = word
			}
			out.WriteString(v)
		case ":+":
			if ok && v != "" {
				out.WriteString(word)
			}
		default:
			return 0, fmt.Errorf("unsupported modifier (%s) in substitution", op)
		}
		return end, nil
	}
	end := i + 1
	for end < len(rs) && isName(rs[end]) {
		end++
	}
	if end == i+1 {
		out.WriteRune('$')
		return i, nil
	}
	v, _ := env(string(rs[i+1 : end]))
	out.WriteString(v)
	return end - 1, nil
}

// parseExpose turns "80", "80/udp" or "8000-8002/tcp" into "port/proto"
// keys.
func parseExpose(spec string) ([]string, error) {
	ports, proto, _ := strings.Cut(spec, "/")
	proto = strings.ToLower(proto)
	if proto == "" {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, invalidChange("invalid proto: %s", proto)
	}
	startS, endS, isRange := strings.Cut(ports, "-")
	start, err1 := strconv.ParseUint(startS, 10, 16)
	end := start
	var err2 error
	if isRange {
		end, err2 = strconv.ParseUint(endS, 10, 16)
	}
	if err1 != nil || err2 != nil || end < start {
		return nil, invalidChange("invalid containerPort: %s", ports)
	}
	var out []string
	for p := start; p <= end; p++ {
		out = append(out, fmt.Sprintf("%d/%s", p, proto))
	}
	return out, nil
}

// parseHealthcheck parses "NONE" or "[--interval=D] [--timeout=D]
// [--start-period=D] [--start-interval=D] [--retries=N] CMD command".
func parseHealthcheck(rest string) (*dockerspec.HealthcheckConfig, error) {
	hc := &dockerspec.HealthcheckConfig{}
	for strings.HasPrefix(rest, "--") {
		flag, remainder := cutWord(rest)
		rest = strings.TrimSpace(remainder)
		key, value, ok := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		if !ok {
			return nil, invalidChange("HEALTHCHECK: missing value for flag %s", flag)
		}
		var err error
		var d time.Duration
		switch key {
		case "interval", "timeout", "start-period", "start-interval":
			d, err = time.ParseDuration(value)
			if err == nil && d < 0 {
				err = fmt.Errorf("must not be negative")
			}
			switch key {
			case "interval":
				hc.Interval = d
			case "timeout":
				hc.Timeout = d
			case "start-period":
				hc.StartPeriod = d
			default:
				hc.StartInterval = d
			}
		case "retries":
			hc.Retries, err = strconv.Atoi(value)
			if err == nil && hc.Retries < 0 {
				err = fmt.Errorf("must not be negative")
			}
		default:
			return nil, invalidChange("Unknown flag: %s", key)
		}
		if err != nil {
			return nil, invalidChange("HEALTHCHECK: invalid value for --%s %q: %v", key, value, err)
		}
	}
	word, cmd := cutWord(rest)
	cmd = strings.TrimSpace(cmd)
	switch strings.ToUpper(word) {
	case "NONE":
		if cmd != "" {
			return nil, invalidChange("HEALTHCHECK NONE takes no arguments")
		}
		return &dockerspec.HealthcheckConfig{Test: []string{"NONE"}}, nil
	case "CMD":
		if args, ok := jsonArray(cmd); ok {
			hc.Test = append([]string{"CMD"}, args...)
		} else if cmd != "" {
			hc.Test = []string{"CMD-SHELL", cmd}
		} else {
			return nil, invalidChange("Missing command after HEALTHCHECK CMD")
		}
		return hc, nil
	default:
		return nil, invalidChange("Unknown type %q in HEALTHCHECK (try CMD)", word)
	}
}
