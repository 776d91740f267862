package unsupported

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	mounttypes "github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"gotest.tools/v3/assert"
)

// apiFields lists the fields of t as docs/api-coverage.md names them:
// prefix.Field, with the fields of embedded structs (HostConfig's
// Resources) flattened into their parent, as the JSON of the API has them.
func apiFields(prefix string, t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, apiFields(prefix, f.Type)...)
			continue
		}
		out = append(out, prefix+"."+f.Name)
	}
	return out
}

// mountFields lists the fields of t (a HostConfig.Mounts entry or one of
// its option structs) as Mount.Field, going into the option structs
// (Mount.BindOptions.Propagation): each option struct has a row of its own
// and one per field.
func mountFields(prefix string, t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := prefix + "." + f.Name
		out = append(out, name)
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			out = append(out, mountFields(name, f.Type.Elem())...)
		}
	}
	return out
}

var rowRE = regexp.MustCompile("^\\| `([A-Za-z.0-9]+)` \\|([^|]+)\\|([^|]*)\\|$")

type row struct{ status, test string }

func coverageRows(t *testing.T) map[string]row {
	data, err := os.ReadFile("../../docs/api-coverage.md")
	assert.NilError(t, err)
	rows := map[string]row{}
	for _, line := range strings.Split(string(data), "\n") {
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		_, dup := rows[m[1]]
		assert.Check(t, !dup, "docs/api-coverage.md: two rows for %s", m[1])
		rows[m[1]] = row{status: strings.TrimSpace(m[2]), test: strings.TrimSpace(m[3])}
	}
	return rows
}

// TestCoverageTable fails when a field of the create request's API types
// (with every field of a HostConfig.Mounts entry and its options) has no row in docs/api-coverage.md, a row names a field that no longer
// exists, or a refusal of this package and the table disagree.
func TestCoverageTable(t *testing.T) {
	t.Parallel()
	rows := coverageRows(t)
	fields := map[string]bool{}
	for _, f := range append(append(append(append(
		apiFields("Config", reflect.TypeFor[containertypes.Config]()),
		apiFields("HostConfig", reflect.TypeFor[containertypes.HostConfig]())...),
		apiFields("NetworkingConfig", reflect.TypeFor[network.NetworkingConfig]())...),
		apiFields("EndpointSettings", reflect.TypeFor[network.EndpointSettings]())...),
		mountFields("Mount", reflect.TypeFor[mounttypes.Mount]())...) {
		fields[f] = true
		_, ok := rows[f]
		assert.Check(t, ok, "docs/api-coverage.md has no row for %s", f)
	}
	assert.Check(t, len(fields) > 100, "reflection found only %d fields", len(fields))
	for f, r := range rows {
		assert.Check(t, fields[f], "docs/api-coverage.md names %s, which the API types no longer have", f)
		ok := false
		for _, s := range []string{"supported", "refused", "in progress (issue ", "output"} {
			ok = ok || strings.HasPrefix(r.status, s)
		}
		assert.Check(t, ok, "%s: unknown status %q", f, r.status)
		if strings.HasPrefix(r.status, "refused") || (strings.HasPrefix(r.status, "supported") && !strings.Contains(r.status, "as in Docker")) {
			assert.Check(t, r.test != "", "%s is %s but names no test", f, r.status)
		}
		if strings.Contains(r.test, "TestFieldsRefused") {
			_, ok := refusals[f]
			assert.Check(t, ok, "%s: TestFieldsRefused has no case for it", f)
		}
	}
	for f := range refusals {
		assert.Check(t, strings.Contains(rows[f].test, "TestFieldsRefused"),
			"TestFieldsRefused checks %s, but docs/api-coverage.md does not name that test for it", f)
	}
}
