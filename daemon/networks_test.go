package daemon

import (
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/daemon/network"
)

func TestMatchNetwork(t *testing.T) {
	t.Parallel()
	nets := []network.Network{
		{Name: "bridge", ID: "b1", Driver: "bridge", Predefined: true},
		{Name: "host", ID: "h1", Driver: "host", Predefined: true},
		{Name: "none", ID: "n1", Driver: "null", Predefined: true},
		{Name: "app_default", ID: "a1", Driver: "bridge", Labels: map[string]string{"com.docker.compose.project": "app"}},
	}
	for _, tc := range []struct {
		filters backend.Filters
		want    []string
		wantErr string
	}{
		{nil, []string{"bridge", "host", "none", "app_default"}, ""},
		{backend.Filters{"name": {"bridge"}}, []string{"bridge"}, ""},
		{backend.Filters{"name": {"^app"}}, []string{"app_default"}, ""},
		{backend.Filters{"id": {"h"}}, []string{"host"}, ""},
		{backend.Filters{"driver": {"null"}}, []string{"none"}, ""},
		{backend.Filters{"type": {"custom"}}, []string{"app_default"}, ""},
		{backend.Filters{"type": {"builtin"}}, []string{"bridge", "host", "none"}, ""},
		{backend.Filters{"label": {"com.docker.compose.project=app"}}, []string{"app_default"}, ""},
		{backend.Filters{"label": {"com.docker.compose.project=x"}}, nil, ""},
		{backend.Filters{"dangling": {"true"}}, []string{"app_default"}, ""},
		{backend.Filters{"dangling": {"maybe"}}, nil, "invalid filter 'dangling=maybe'"},
		{backend.Filters{"name": {"("}}, nil, "invalid filter value"},
	} {
		var got []string
		var err error
		for _, n := range nets {
			var ok bool
			if ok, err = matchNetwork(n, tc.filters); err != nil {
				break
			}
			if ok {
				got = append(got, n.Name)
			}
		}
		if tc.wantErr != "" {
			assert.ErrorContains(t, err, tc.wantErr, "%v", tc.filters)
			assert.Check(t, errdefs.IsInvalidArgument(err))
			continue
		}
		assert.NilError(t, err)
		assert.DeepEqual(t, got, tc.want)
	}
}
