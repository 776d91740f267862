package secopts

import (
	"errors"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

const denyMkdir = `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []string
		host    Host
		want    Options
		wantErr string
	}{
		{name: "none"},
		{name: "seccomp unconfined", opts: []string{"seccomp=unconfined"}, want: Options{Seccomp: SeccompUnconfined}},
		{name: "seccomp with the deprecated colon", opts: []string{"seccomp:unconfined"}, want: Options{Seccomp: SeccompUnconfined}},
		{name: "seccomp builtin", opts: []string{"seccomp=builtin"}, want: Options{Seccomp: SeccompBuiltin}},
		{name: "last seccomp wins", opts: []string{"seccomp=unconfined", "seccomp=" + denyMkdir},
			want: Options{Seccomp: SeccompCustom, SeccompProfile: denyMkdir}},
		{name: "seccomp profile", opts: []string{"seccomp=" + denyMkdir}, want: Options{Seccomp: SeccompCustom, SeccompProfile: denyMkdir}},
		{name: "empty profile", opts: []string{"seccomp={}"}, want: Options{Seccomp: SeccompCustom, SeccompProfile: "{}"}},
		{name: "no-new-privileges", opts: []string{"no-new-privileges"}, want: Options{NoNewPrivileges: true}},
		{name: "no-new-privileges=true", opts: []string{"no-new-privileges=true"}, want: Options{NoNewPrivileges: true}},
		{name: "no-new-privileges:true", opts: []string{"no-new-privileges:true"}, want: Options{NoNewPrivileges: true}},
		{name: "no-new-privileges=1", opts: []string{"no-new-privileges=1"}, want: Options{NoNewPrivileges: true}},
		{name: "no-new-privileges=false", opts: []string{"no-new-privileges", "no-new-privileges=false"}},
		{name: "label=disable", opts: []string{"label=disable"}, want: Options{Labels: []string{"disable"}}},
		{name: "disable alone", opts: []string{"disable"}, want: Options{Labels: []string{"disable"}}},
		{name: "label kinds without SELinux", opts: []string{"label=user:u", "label:type:container_t", "label=level:s0:c1,c2"},
			want: Options{Labels: []string{"user:u", "type:container_t", "level:s0:c1,c2"}}},
		{name: "label disable with SELinux", opts: []string{"label=disable"}, host: Host{SELinux: true},
			want: Options{Labels: []string{"disable"}}},
		{name: "label type with SELinux", opts: []string{"label=type:x"}, host: Host{SELinux: true},
			wantErr: `invalid --security-opt "label=type:x": berth does not apply SELinux labels`},
		{name: "bad label", opts: []string{"label=foo"}, wantErr: `invalid --security-opt "label=foo": want disable or KIND:VALUE`},
		{name: "apparmor without AppArmor", opts: []string{"apparmor=docker-default"}, want: Options{AppArmorProfile: "docker-default"}},
		{name: "apparmor unconfined with AppArmor", opts: []string{"apparmor=unconfined"}, host: Host{AppArmor: true},
			want: Options{AppArmorProfile: "unconfined"}},
		{name: "apparmor profile with AppArmor", opts: []string{"apparmor=docker-default"}, host: Host{AppArmor: true},
			wantErr: "berth does not apply AppArmor profiles"},
		{name: "apparmor empty", opts: []string{"apparmor="}, wantErr: "no AppArmor profile given"},
		{name: "systempaths", opts: []string{"systempaths=unconfined"}, want: Options{SystemPathsUnconfined: true}},
		{name: "systempaths other", opts: []string{"systempaths=confined"}, wantErr: "the only value is unconfined"},
		{name: "writable-cgroups", opts: []string{"writable-cgroups=true"}, wantErr: "writable-cgroups is not supported by berth"},
		{name: "unknown key", opts: []string{"foo=bar"}, wantErr: `invalid --security-opt "foo=bar": unknown option "foo"`},
		{name: "no value", opts: []string{"seccomp"}, wantErr: `invalid --security-opt "seccomp": want KEY=VALUE`},
		{name: "bad bool", opts: []string{"no-new-privileges=maybe"}, wantErr: `"maybe" is not a boolean`},
		{name: "empty seccomp", opts: []string{"seccomp="}, wantErr: "no profile given"},
		{name: "bad JSON", opts: []string{`seccomp={"defaultAction":`},
			wantErr: "invalid --security-opt seccomp: not a valid seccomp profile: not a JSON profile"},
		{name: "a file name", opts: []string{"seccomp=/etc/profile.json"},
			wantErr: "give the profile's content, as the docker and berth CLIs do with a file name"},
		{name: "unknown action", opts: []string{`seccomp={"defaultAction":"SCMP_ACT_NOPE"}`}, wantErr: `unknown defaultAction "SCMP_ACT_NOPE"`},
		{name: "unknown syscall action", opts: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"ALLOW"}]}`},
			wantErr: `unknown action "ALLOW" for read`},
		{name: "no default action", opts: []string{`seccomp={"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`},
			wantErr: "no defaultAction"},
		{name: "unknown arch", opts: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]}`},
			wantErr: `unknown architecture "SCMP_ARCH_Z80"`},
		{name: "unknown operator", opts: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_WHAT"}]}]}`},
			wantErr: `unknown operator "SCMP_CMP_WHAT" for personality`},
		{name: "name and names", opts: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ERRNO"}]}`},
			wantErr: "both 'name' and 'names'"},
		{name: "a rule without names", opts: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"action":"SCMP_ACT_ERRNO"}]}`},
			wantErr: "a syscall rule has no names"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.opts, tc.host)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				assert.Check(t, errors.Is(err, errdefs.ErrInvalidArgument), "%v", err)
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(got, tc.want))
		})
	}
}

func TestParseLongOptionIsShortened(t *testing.T) {
	t.Parallel()
	_, err := Parse([]string{"bogus=" + strings.Repeat("x", 10000)}, Host{})
	assert.ErrorContains(t, err, `unknown option "bogus"`)
	assert.Check(t, len(err.Error()) < 300, "error message of %d bytes", len(err.Error()))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"seccomp=unconfined", "no-new-privileges", "label=type:x", "apparmor=a", "seccomp=" + denyMkdir, "x:y", "disable"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, opt string) {
		o, err := Parse([]string{opt}, Host{})
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error without class: %v", err)
			}
			return
		}
		if o.SeccompProfile != "" && CheckSeccompProfile(o.SeccompProfile) != nil {
			t.Fatalf("accepted an invalid profile: %q", opt)
		}
	})
}
