// Package swagger checks Engine API response bodies against the Engine
// API's Swagger 2.0 definition: every required property is present, and
// every property present has the JSON type the definition gives it, and
// string enums hold one of their values. It is a minimal checker for tests,
// not a full JSON Schema validator: formats, patterns and numeric bounds
// are not checked, and null is accepted for any property (see check).
//
// The definition is YAML; it is converted once with the python3-yaml module
// that docker-compose depends on, so the tests need no YAML library.
package swagger

import (
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"sort"
	"strings"
)

// Spec is a loaded definition.
type Spec struct {
	doc map[string]any
}

// Load reads the Swagger YAML file at path with python (python3 with the
// yaml module).
func Load(python, path string) (*Spec, error) {
	out, err := exec.Command(python, "-c",
		"import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("convert %s to JSON: %v: %s", path, err, ee.Stderr)
		}
		return nil, fmt.Errorf("convert %s to JSON: %w", path, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, err
	}
	return &Spec{doc: doc}, nil
}

// ResponseSchema returns the schema of a response of an operation, e.g.
// ("/containers/{id}/json", "get", "200").
func (s *Spec) ResponseSchema(path, method, status string) (map[string]any, error) {
	op, ok := dig(s.doc, "paths", path, method).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no operation %s %s in the definition", method, path)
	}
	schema, ok := dig(op, "responses", status, "schema").(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no schema for %s %s %s", method, path, status)
	}
	return schema, nil
}

// Validate checks the JSON document body against schema and returns one
// line per problem, each naming the JSON path.
func (s *Spec) Validate(schema map[string]any, body []byte) ([]string, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("response is not JSON: %w", err)
	}
	var problems []string
	s.check(schema, v, "$", &problems, 0)
	return problems, nil
}

func (s *Spec) resolve(schema map[string]any) map[string]any {
	for i := 0; i < 10; i++ {
		ref, ok := schema["$ref"].(string)
		if !ok {
			return schema
		}
		name, ok := strings.CutPrefix(ref, "#/definitions/")
		if !ok {
			return schema
		}
		def, ok := dig(s.doc, "definitions", name).(map[string]any)
		if !ok {
			return schema
		}
		schema = def
	}
	return schema
}

func (s *Spec) check(schema map[string]any, v any, at string, problems *[]string, depth int) {
	if depth > 40 {
		return
	}
	schema = s.resolve(schema)
	for _, sub := range asList(schema["allOf"]) {
		if m, ok := sub.(map[string]any); ok {
			s.check(m, v, at, problems, depth+1)
		}
	}
	if v == nil {
		// Accepted whatever x-nullable says: Go's encoding/json writes nil
		// slices and maps as null, and dockerd itself sends null for many
		// properties the definition does not mark nullable (HostConfig.CapAdd,
		// Config.Entrypoint, ...). Presence is what "required" checks.
		return
	}
	typ, _ := schema["type"].(string)
	if typ == "" && (schema["properties"] != nil || schema["required"] != nil) {
		typ = "object"
	}
	if typ != "" && !hasType(v, typ) {
		*problems = append(*problems, fmt.Sprintf("%s: %s, but the definition says %s", at, jsonType(v), typ))
		return
	}
	if enum := asList(schema["enum"]); len(enum) > 0 {
		if str, ok := v.(string); ok && !slices.ContainsFunc(enum, func(e any) bool { return e == str }) {
			*problems = append(*problems, fmt.Sprintf("%s: %q is not one of %v", at, str, enum))
		}
	}
	switch val := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asList(schema["required"]) {
			name, _ := r.(string)
			if _, ok := val[name]; !ok {
				*problems = append(*problems, fmt.Sprintf("%s: required property %q is missing", at, name))
			}
		}
		keys := make([]string, 0, len(val))
		for k := range val {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		extra, _ := schema["additionalProperties"].(map[string]any)
		for _, k := range keys {
			if p, ok := props[k].(map[string]any); ok {
				s.check(p, val[k], at+"."+k, problems, depth+1)
			} else if extra != nil {
				s.check(extra, val[k], at+"."+k, problems, depth+1)
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, item := range val {
				s.check(items, item, fmt.Sprintf("%s[%d]", at, i), problems, depth+1)
			}
		}
	}
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	}
	return true
}

func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	}
	return "null"
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
