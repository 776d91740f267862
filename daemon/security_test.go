package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/daemon/oci"
	"github.com/berth-project/berth/daemon/secopts"
)

func TestValidateSecurity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		hc           containertypes.HostConfig
		wantErr      string
		wantMasked   []string
		wantReadonly []string
	}{
		{name: "defaults filled in", wantMasked: oci.DefaultMaskedPaths(), wantReadonly: oci.DefaultReadonlyPaths()},
		{name: "privileged gets none", hc: containertypes.HostConfig{Privileged: true}},
		{name: "own lists kept", hc: containertypes.HostConfig{MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{}},
			wantMasked: []string{"/proc/kcore"}, wantReadonly: []string{}},
		{name: "systempaths=unconfined", hc: containertypes.HostConfig{SecurityOpt: []string{"systempaths=unconfined"}},
			wantMasked: []string{}, wantReadonly: []string{}},
		{name: "known capabilities", hc: containertypes.HostConfig{CapAdd: []string{"net_admin", "CAP_SYS_ADMIN", "ALL"}, CapDrop: []string{"all", "chown"}},
			wantMasked: oci.DefaultMaskedPaths(), wantReadonly: oci.DefaultReadonlyPaths()},
		{name: "unknown CapAdd", hc: containertypes.HostConfig{CapAdd: []string{"NET_ADMIN", "foo"}},
			wantErr: `invalid CapAdd: unknown capability: "CAP_FOO"`},
		{name: "unknown CapDrop", hc: containertypes.HostConfig{CapDrop: []string{"CAP_BAR"}},
			wantErr: `invalid CapDrop: unknown capability: "CAP_BAR"`},
		{name: "unknown security option", hc: containertypes.HostConfig{SecurityOpt: []string{"foo=bar"}},
			wantErr: `invalid --security-opt "foo=bar": unknown option "foo"`},
		{name: "relative masked path", hc: containertypes.HostConfig{MaskedPaths: []string{"proc/kcore"}},
			wantErr: `"proc/kcore" is not an absolute path`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hc := tc.hc
			err := validateSecurity(&hc, secopts.Host{})
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				assert.Check(t, errors.Is(err, errdefs.ErrInvalidArgument), "%v", err)
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(hc.MaskedPaths, tc.wantMasked))
			assert.Check(t, is.DeepEqual(hc.ReadonlyPaths, tc.wantReadonly))
		})
	}
}

func TestSeccompFor(t *testing.T) {
	t.Parallel()
	daemonDefault := oci.Seccomp{Profile: `{"defaultAction":"SCMP_ACT_LOG"}`}
	tests := []struct {
		opts []string
		want oci.Seccomp
	}{
		{opts: nil, want: daemonDefault},
		{opts: []string{"no-new-privileges"}, want: daemonDefault},
		{opts: []string{"seccomp=builtin"}, want: oci.Seccomp{}},
		{opts: []string{"seccomp=unconfined"}, want: oci.Seccomp{Unconfined: true}},
		{opts: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}, want: oci.Seccomp{Profile: `{"defaultAction":"SCMP_ACT_ALLOW"}`}},
	}
	for _, tc := range tests {
		sec, err := secopts.Parse(tc.opts, secopts.Host{})
		assert.NilError(t, err)
		assert.Check(t, is.DeepEqual(seccompFor(sec, daemonDefault), tc.want), "%v", tc.opts)
	}
}

func TestLoadSeccompProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	assert.NilError(t, os.WriteFile(good, []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o600))
	bad := filepath.Join(dir, "bad.json")
	assert.NilError(t, os.WriteFile(bad, []byte(`{"defaultAction":"NOPE"}`), 0o600))

	for value, want := range map[string]oci.Seccomp{
		"":           {},
		"builtin":    {},
		"unconfined": {Unconfined: true},
		good:         {Profile: `{"defaultAction":"SCMP_ACT_ALLOW"}`},
	} {
		got, err := loadSeccompProfile(value)
		assert.NilError(t, err, value)
		assert.Check(t, is.DeepEqual(got, want), value)
	}
	_, err := loadSeccompProfile(bad)
	assert.ErrorContains(t, err, `seccomp-profile `+bad+`: not a valid seccomp profile: unknown defaultAction "NOPE"`)
	_, err = loadSeccompProfile(filepath.Join(dir, "absent.json"))
	assert.ErrorContains(t, err, "seccomp-profile: open ")
	assert.Check(t, is.Equal(seccompInfo(""), "name=seccomp,profile=builtin"))
	assert.Check(t, is.Equal(seccompInfo(good), "name=seccomp,profile="+good))
}

func TestApplySecurity(t *testing.T) {
	t.Parallel()
	custom := `{"defaultAction":"SCMP_ACT_ALLOW"}`
	tests := []struct {
		name     string
		opts     []string
		daemon   oci.Seccomp
		wantNNP  bool
		wantSecc oci.Seccomp
	}{
		{name: "defaults", wantSecc: oci.Seccomp{}},
		{name: "no-new-privileges", opts: []string{"no-new-privileges"}, wantNNP: true},
		{name: "no-new-privileges:true", opts: []string{"no-new-privileges:true"}, wantNNP: true},
		{name: "no-new-privileges=false", opts: []string{"no-new-privileges=false"}},
		{name: "daemon unconfined", daemon: oci.Seccomp{Unconfined: true}, wantSecc: oci.Seccomp{Unconfined: true}},
		{name: "container builtin over daemon unconfined", opts: []string{"seccomp=builtin"}, daemon: oci.Seccomp{Unconfined: true}, wantSecc: oci.Seccomp{}},
		{name: "custom", opts: []string{"seccomp=" + custom}, wantSecc: oci.Seccomp{Profile: custom}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hc := &containertypes.HostConfig{SecurityOpt: tc.opts, MaskedPaths: []string{"/proc/kcore"}}
			var in oci.Input
			assert.NilError(t, applySecurity(&in, hc, tc.daemon))
			assert.Equal(t, in.NoNewPrivileges, tc.wantNNP)
			assert.DeepEqual(t, in.Seccomp, tc.wantSecc)
			assert.DeepEqual(t, in.MaskedPaths, []string{"/proc/kcore"})
			assert.Assert(t, in.HostDevices == nil)
		})
	}
}
