package bindprop

import "testing"

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		prop  string
		want  Need
		clone bool
	}{
		{"", NeedNothing, false},
		{"private", NeedNothing, false},
		{"rprivate", NeedNothing, false},
		{"slave", NeedSharedOrSlave, false},
		{"rslave", NeedSharedOrSlave, false},
		{"shared", NeedShared, true},
		{"rshared", NeedShared, true},
	} {
		if got := Required(tc.prop); got != tc.want {
			t.Errorf("Required(%q) = %v, want %v", tc.prop, got, tc.want)
		}
		if got := Clones(tc.prop); got != tc.clone {
			t.Errorf("Clones(%q) = %v, want %v", tc.prop, got, tc.clone)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		need     Need
		optional string
		err      string
	}{
		{"private source, private bind", NeedNothing, "", ""},
		{"shared source, shared bind", NeedShared, "shared:12", ""},
		{"shared slave source, shared bind", NeedShared, "shared:3 master:1", ""},
		{"slave source, shared bind", NeedShared, "master:1", "path /src/d is mounted on /src but it is not a shared mount"},
		{"private source, shared bind", NeedShared, "", "path /src/d is mounted on /src but it is not a shared mount"},
		{"unbindable-looking fields, shared bind", NeedShared, "unbindable", "path /src/d is mounted on /src but it is not a shared mount"},
		{"shared source, slave bind", NeedSharedOrSlave, "shared:2", ""},
		{"slave source, slave bind", NeedSharedOrSlave, "master:7 propagate_from:2", ""},
		{"private source, slave bind", NeedSharedOrSlave, "", "path /src/d is mounted on /src but it is not a shared or slave mount"},
	} {
		err := Check(tc.need, "/src/d", "/src", tc.optional)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestRootfsPropagation(t *testing.T) {
	for _, tc := range []struct {
		props []string
		want  string
	}{
		{nil, ""},
		{[]string{"", "rprivate", "private"}, ""},
		{[]string{"rslave"}, "rslave"},
		{[]string{"slave", "rprivate"}, "rslave"},
		{[]string{"rshared"}, "shared"},
		{[]string{"rslave", "shared"}, "shared"},
		{[]string{"shared", "rslave"}, "shared"},
	} {
		if got := RootfsPropagation(tc.props); got != tc.want {
			t.Errorf("RootfsPropagation(%q) = %q, want %q", tc.props, got, tc.want)
		}
	}
}
