package tmpfsopt

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Options
	}{
		{in: "", want: Options{}},
		{in: "defaults", want: Options{}},
		{in: "rw,defaults,noexec", want: Options{Flags: []string{"rw", "noexec"}}},
		{in: "size=64m", want: Options{Size: "64m", SizeBytes: 64 << 20}},
		{in: "size=50%", want: Options{Size: "50%", SizePercent: 50}},
		{in: "size=65536k", want: Options{Size: "65536k", SizeBytes: 64 << 20}},
		{in: "size=1048576", want: Options{Size: "1048576", SizeBytes: 1 << 20}},
		{in: "size=1G", want: Options{Size: "1G", SizeBytes: 1 << 30}},
		{in: "size=64m,size=50%", want: Options{Size: "50%", SizePercent: 50}},
		{in: "size=50%,size=1k", want: Options{Size: "1k", SizeBytes: 1024}},
		{in: "mode=1777", want: Options{Mode: ptr(uint32(0o1777))}},
		{in: "mode=0755", want: Options{Mode: ptr(uint32(0o755))}},
		{in: "mode=0", want: Options{Mode: ptr(uint32(0))}},
		{in: "mode=7777", want: Options{Mode: ptr(uint32(0o7777))}},
		{in: "uid=1000,gid=0", want: Options{UID: "1000", GID: "0"}},
		{in: "uid=nobody,gid=www-data", want: Options{UID: "nobody", GID: "www-data"}},
		{in: "uid=_svc,gid=machine$", want: Options{UID: "_svc", GID: "machine$"}},
		{in: "uid=4294967294", want: Options{UID: "4294967294"}},
		{in: "nr_inodes=1k,nr_blocks=100", want: Options{NrInodes: "1k", NrBlocks: "100"}},
		{in: "nr_inodes=0", want: Options{NrInodes: "0"}},
		{in: "mpol=default", want: Options{Mpol: "default"}},
		{in: "mpol=local", want: Options{Mpol: "local"}},
		{in: "mpol=prefer:1", want: Options{Mpol: "prefer:1"}},
		{in: "mpol=interleave", want: Options{Mpol: "interleave"}},
		{in: "mpol=interleave:0-3", want: Options{Mpol: "interleave:0-3"}},
		{in: "mpol=bind=static:0", want: Options{Mpol: "bind=static:0"}},
		{in: "mpol=bind:0,2-3,rw", want: Options{Mpol: "bind:0,2-3", Flags: []string{"rw"}}},
		{in: "huge=within_size", want: Options{Huge: "within_size"}},
		{in: "huge=never", want: Options{Huge: "never"}},
		{in: "huge=always", want: Options{Huge: "always"}},
		{in: "huge=advise", want: Options{Huge: "advise"}},
		{in: "noswap", want: Options{Noswap: true}},
		{in: "inode64", want: Options{Inode64: true}},
		{in: "inode64,inode32", want: Options{Inode32: true}},
		{in: "inode32,inode64", want: Options{Inode64: true}},
		{in: "tmpcopyup", want: Options{CopyUp: ptr(true)}},
		{in: "notmpcopyup", want: Options{CopyUp: ptr(false)}},
		// Merging within the user's own list: last wins per flag pair.
		{in: "rw,size=8192k,exec,size=4096k,noexec", want: Options{
			Flags: []string{"rw", "noexec"}, Size: "4096k", SizeBytes: 4096 << 10}},
		{in: "private,rshared,ro", want: Options{Flags: []string{"rshared", "ro"}}},
		{in: "noatime,relatime,strictatime", want: Options{Flags: []string{"noatime", "relatime", "strictatime"}}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestParseEveryWord(t *testing.T) {
	t.Parallel()
	words := []string{
		"ro", "rw", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "atime", "noatime",
		"diratime", "nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime",
		"sync", "async", "dirsync", "mand", "nomand",
		"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
	}
	for _, w := range words {
		got, err := Parse(w)
		assert.NilError(t, err, w)
		assert.DeepEqual(t, got.Flags, []string{w})
		assert.Equal(t, got.String(), w)
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantMsg string
	}{
		{in: "foobar", wantMsg: `invalid tmpfs option "foobar": unknown option`},
		{in: "rw,", wantMsg: `invalid tmpfs option "": empty option`},
		{in: ",rw", wantMsg: `invalid tmpfs option "": empty option`},
		{in: "rw,,exec", wantMsg: `invalid tmpfs option "": empty option`},
		{in: "remount", wantMsg: `invalid tmpfs option "remount": unknown option`},
		{in: "bind", wantMsg: `invalid tmpfs option "bind": unknown option`},
		{in: "rbind", wantMsg: `invalid tmpfs option "rbind": unknown option`},
		{in: "lazytime", wantMsg: `invalid tmpfs option "lazytime"`},
		{in: "quota", wantMsg: `invalid tmpfs option "quota"`},
		{in: "RW", wantMsg: `invalid tmpfs option "RW"`},
		{in: " rw", wantMsg: `invalid tmpfs option " rw"`},
		{in: "ro=1", wantMsg: `invalid tmpfs option "ro=1": option takes no value`},
		{in: "noswap=1", wantMsg: `invalid tmpfs option "noswap=1": option takes no value`},
		{in: "tmpcopyup=true", wantMsg: `invalid tmpfs option "tmpcopyup=true": option takes no value`},
		{in: "size", wantMsg: `invalid tmpfs option "size": missing value`},
		{in: "size=", wantMsg: `invalid tmpfs option "size=": missing value`},
		{in: "size=abc", wantMsg: `invalid tmpfs option "size=abc": invalid size`},
		{in: "size=-1", wantMsg: `invalid tmpfs option "size=-1": invalid size`},
		{in: "size=1x", wantMsg: `invalid tmpfs option "size=1x": invalid size`},
		{in: "size=0x10", wantMsg: `invalid tmpfs option "size=0x10": invalid size`},
		{in: "size=010", wantMsg: `invalid tmpfs option "size=010": invalid size: leading zeros`},
		{in: "size=1.5g", wantMsg: `invalid tmpfs option "size=1.5g": invalid size`},
		{in: "size=0%", wantMsg: `invalid tmpfs option "size=0%": invalid size`},
		{in: "size=101%", wantMsg: `invalid tmpfs option "size=101%": invalid size`},
		{in: "size=99999999999g", wantMsg: `invalid tmpfs option "size=99999999999g": invalid size: number too large`},
		{in: "mode=999", wantMsg: `invalid tmpfs option "mode=999": invalid mode`},
		{in: "mode=0o755", wantMsg: `invalid tmpfs option "mode=0o755": invalid mode`},
		{in: "mode=17777", wantMsg: `invalid tmpfs option "mode=17777": invalid mode`},
		{in: "mode=-1", wantMsg: `invalid tmpfs option "mode=-1": invalid mode`},
		{in: "mode=rwx", wantMsg: `invalid tmpfs option "mode=rwx": invalid mode`},
		{in: "uid=-1", wantMsg: `invalid tmpfs option "uid=-1": invalid uid`},
		{in: "uid=4294967295", wantMsg: `invalid tmpfs option "uid=4294967295": invalid uid`},
		{in: "uid=4294967296", wantMsg: `invalid tmpfs option "uid=4294967296": invalid uid`},
		{in: "uid=010", wantMsg: `invalid tmpfs option "uid=010": invalid uid`},
		{in: "uid=Root", wantMsg: `invalid tmpfs option "uid=Root": invalid uid`},
		{in: "gid=a b", wantMsg: `invalid tmpfs option "gid=a b": invalid gid`},
		{in: "gid=1abc", wantMsg: `invalid tmpfs option "gid=1abc": invalid gid`},
		{in: "nr_inodes=10%", wantMsg: `invalid tmpfs option "nr_inodes=10%": invalid nr_inodes`},
		{in: "nr_blocks=x", wantMsg: `invalid tmpfs option "nr_blocks=x": invalid nr_blocks`},
		{in: "mpol=bogus", wantMsg: `invalid tmpfs option "mpol=bogus": invalid mpol`},
		{in: "mpol=bind", wantMsg: `invalid tmpfs option "mpol=bind": invalid mpol`},
		{in: "mpol=default:1", wantMsg: `invalid tmpfs option "mpol=default:1": invalid mpol`},
		{in: "mpol=bind:0,x", wantMsg: `invalid tmpfs option "x": unknown option`},
		{in: "mpol=bind:0,1k", wantMsg: `invalid tmpfs option "mpol=bind:0,1k": invalid mpol`},
		{in: "huge=deny", wantMsg: `invalid tmpfs option "huge=deny": invalid huge`},
		{in: "huge=yes", wantMsg: `invalid tmpfs option "huge=yes": invalid huge`},
		{in: "tmpcopyup,notmpcopyup", wantMsg: `invalid tmpfs option "notmpcopyup": the 'tmpcopyup' or 'notmpcopyup' option can only be set once`},
		{in: "tmpcopyup,tmpcopyup", wantMsg: `the 'tmpcopyup' or 'notmpcopyup' option can only be set once`},
		{in: "notmpcopyup,rw,notmpcopyup", wantMsg: `the 'tmpcopyup' or 'notmpcopyup' option can only be set once`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			assert.Check(t, is.ErrorContains(err, tc.wantMsg))
			assert.Check(t, errdefs.IsInvalidArgument(err), "error %v is not classed invalid argument", err)
			assert.Check(t, strings.HasPrefix(err.Error(), "invalid tmpfs option "), err.Error())
			assert.DeepEqual(t, got, Options{})
		})
	}
}

func TestParseList(t *testing.T) {
	t.Parallel()
	got, err := ParseList([]string{"uid=1000", "exec", "mpol=bind:0,2", "notmpcopyup"})
	assert.NilError(t, err)
	assert.DeepEqual(t, got, Options{Flags: []string{"exec"}, UID: "1000", Mpol: "bind:0,2", CopyUp: ptr(false)})

	_, err = ParseList([]string{"rw,exec"})
	assert.Check(t, is.ErrorContains(err, `invalid tmpfs option "rw,exec"`))
	_, err = ParseList([]string{""})
	assert.Check(t, is.ErrorContains(err, `invalid tmpfs option "": empty option`))
	got, err = ParseList(nil)
	assert.NilError(t, err)
	assert.DeepEqual(t, got, Options{})
}

func TestMerge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		defaults  []string
		user      string
		wantFlags []string
		wantStr   string
	}{
		{
			name:      "no user options",
			defaults:  DefaultFlags,
			wantFlags: []string{"noexec", "nosuid", "nodev", "rprivate"},
			wantStr:   "noexec,nosuid,nodev,rprivate",
		},
		{
			// moby TestRunTmpfsMountsWithOptions: the mount shows
			// rw,nosuid,nodev,noexec,...,size=4096k.
			name:      "moby oracle",
			defaults:  DefaultFlags,
			user:      "rw,size=8192k,exec,size=4096k,noexec",
			wantFlags: []string{"nosuid", "nodev", "rprivate", "rw", "noexec"},
			wantStr:   "nosuid,nodev,rprivate,rw,noexec,size=4096k",
		},
		{
			name:      "exec removes noexec",
			defaults:  DefaultFlags,
			user:      "exec",
			wantFlags: []string{"nosuid", "nodev", "rprivate", "exec"},
			wantStr:   "nosuid,nodev,rprivate,exec",
		},
		{
			name:      "suid dev and a propagation mode override",
			defaults:  DefaultFlags,
			user:      "suid,dev,rshared",
			wantFlags: []string{"noexec", "suid", "dev", "rshared"},
			wantStr:   "noexec,suid,dev,rshared",
		},
		{
			name:      "ro is kept",
			defaults:  DefaultFlags,
			user:      "ro,uid=1000,tmpcopyup",
			wantFlags: []string{"noexec", "nosuid", "nodev", "rprivate", "ro"},
			wantStr:   "noexec,nosuid,nodev,rprivate,ro,uid=1000,tmpcopyup",
		},
		{
			name:      "default data options fill the gaps",
			defaults:  []string{"nosuid", "size=64m", "mode=1777", "notmpcopyup", "inode64"},
			user:      "size=1g,exec,inode32",
			wantFlags: []string{"nosuid", "exec"},
			wantStr:   "nosuid,exec,size=1g,mode=1777,inode32,notmpcopyup",
		},
		{
			name:     "no defaults",
			user:     "",
			wantStr:  "",
			defaults: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user, err := Parse(tc.user)
			assert.NilError(t, err)
			userBefore := user.String()
			got := Merge(tc.defaults, user)
			assert.DeepEqual(t, got.Flags, tc.wantFlags)
			assert.Equal(t, got.String(), tc.wantStr)
			assert.Equal(t, user.String(), userBefore, "Merge modified its input")
		})
	}
}

func TestMergeDoesNotAlias(t *testing.T) {
	t.Parallel()
	user, err := Parse("mode=700,rw")
	assert.NilError(t, err)
	got := Merge(DefaultFlags, user)
	*got.Mode = 0o755
	got.Flags[0] = "ro"
	assert.Equal(t, *user.Mode, uint32(0o700))
	assert.DeepEqual(t, user.Flags, []string{"rw"})
	assert.DeepEqual(t, DefaultFlags, []string{"noexec", "nosuid", "nodev", "rprivate"})
}

func TestMergePanicsOnInvalidDefaults(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		assert.Check(t, r != nil, "Merge accepted invalid defaults")
	}()
	Merge([]string{"bogus"}, Options{})
}

func TestData(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{in: "", want: ""},
		{in: "rw,noexec,rprivate", want: ""},
		{in: "size=64m", want: "size=64m"},
		{in: "inode64,noswap,huge=advise,mpol=bind:0,1,nr_blocks=10,nr_inodes=2k,gid=5,uid=7,mode=1777,size=50%,exec,tmpcopyup",
			want: "size=50%,mode=1777,uid=7,gid=5,nr_inodes=2k,mpol=bind:0,1,huge=advise,noswap,inode64"}, // size= after nr_blocks= wins,
		{in: "mode=0755", want: "mode=755"},
	}
	for _, tc := range tests {
		o, err := Parse(tc.in)
		assert.NilError(t, err, tc.in)
		assert.Check(t, is.Equal(o.Data(), tc.want), tc.in)
	}
}

func TestMountFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		wantFlag uintptr
		wantProp uintptr
	}{
		{in: "", wantFlag: 0, wantProp: 0},
		{in: "noexec,nosuid,nodev,rprivate", wantFlag: unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV, wantProp: unix.MS_PRIVATE | unix.MS_REC},
		{in: "ro,sync,dirsync,mand,noatime,nodiratime", wantFlag: unix.MS_RDONLY | unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_MANDLOCK | unix.MS_NOATIME | unix.MS_NODIRATIME},
		{in: "relatime,strictatime", wantFlag: unix.MS_RELATIME | unix.MS_STRICTATIME},
		{in: "rw,exec,suid,dev,async,nomand,atime,diratime,norelatime,nostrictatime", wantFlag: 0},
		{in: "private", wantProp: unix.MS_PRIVATE},
		{in: "shared", wantProp: unix.MS_SHARED},
		{in: "rshared", wantProp: unix.MS_SHARED | unix.MS_REC},
		{in: "slave", wantProp: unix.MS_SLAVE},
		{in: "rslave", wantProp: unix.MS_SLAVE | unix.MS_REC},
		{in: "unbindable", wantProp: unix.MS_UNBINDABLE},
		{in: "runbindable", wantProp: unix.MS_UNBINDABLE | unix.MS_REC},
	}
	for _, tc := range tests {
		o, err := Parse(tc.in)
		assert.NilError(t, err, tc.in)
		flags, prop := o.MountFlags()
		assert.Check(t, is.Equal(flags, tc.wantFlag), tc.in)
		assert.Check(t, is.Equal(prop, tc.wantProp), tc.in)
	}

	merged := Merge(DefaultFlags, mustParse(t, "ro,exec"))
	flags, prop := merged.MountFlags()
	assert.Equal(t, flags, uintptr(unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV))
	assert.Equal(t, prop, uintptr(unix.MS_PRIVATE|unix.MS_REC))
	assert.Check(t, merged.ReadOnly())
	assert.Check(t, !Merge(DefaultFlags, mustParse(t, "ro,rw")).ReadOnly())
}

func mustParse(t *testing.T, s string) Options {
	t.Helper()
	o, err := Parse(s)
	assert.NilError(t, err)
	return o
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		wantBytes   int64
		wantPercent int
		wantErr     string
	}{
		{in: "0", wantBytes: 0},
		{in: "1", wantBytes: 1},
		{in: "1048576", wantBytes: 1 << 20},
		{in: "1k", wantBytes: 1024},
		{in: "1K", wantBytes: 1024},
		{in: "64m", wantBytes: 64 << 20},
		{in: "64M", wantBytes: 64 << 20},
		{in: "2g", wantBytes: 2 << 30},
		{in: "2G", wantBytes: 2 << 30},
		{in: "1t", wantBytes: 1 << 40},
		{in: "65536k", wantBytes: 64 << 20},
		{in: "1%", wantPercent: 1},
		{in: "50%", wantPercent: 50},
		{in: "100%", wantPercent: 100},
		{in: "9223372036854775807", wantBytes: 1<<63 - 1},
		{in: "8388607t", wantBytes: 8388607 << 40},
		{in: "", wantErr: `invalid size "": empty value`},
		{in: "k", wantErr: `invalid size "k": missing number`},
		{in: "%", wantErr: `invalid size "%": missing number`},
		{in: "abc", wantErr: `invalid size "abc": not a number`},
		{in: "-1", wantErr: `invalid size "-1": not a number`},
		{in: "+1", wantErr: `invalid size "+1": not a number`},
		{in: "1 m", wantErr: `not a number`},
		{in: "1mb", wantErr: `not a number`},
		{in: "1p", wantErr: `unknown suffix 'p'`},
		{in: "0x10", wantErr: `not a number`},
		{in: "007", wantErr: `leading zeros`},
		{in: "0%", wantErr: `percentage must be between 1% and 100%`},
		{in: "101%", wantErr: `percentage must be between 1% and 100%`},
		{in: "1k%", wantErr: `not a number`},
		{in: "9223372036854775808", wantErr: `number too large`},
		{in: "8388608t", wantErr: `number too large`},
		{in: "9007199254740992k", wantErr: `number too large`},
	}
	for _, tc := range tests {
		b, p, err := ParseSize(tc.in)
		if tc.wantErr != "" {
			assert.Check(t, is.ErrorContains(err, tc.wantErr), "%q", tc.in)
			assert.Check(t, errdefs.IsInvalidArgument(err), "%q", tc.in)
			continue
		}
		assert.Check(t, err, "%q", tc.in)
		assert.Check(t, is.Equal(b, tc.wantBytes), "%q", tc.in)
		assert.Check(t, is.Equal(p, tc.wantPercent), "%q", tc.in)
	}
}

func TestRequiresKernel(t *testing.T) {
	t.Parallel()
	assert.Check(t, is.Len(mustParse(t, "size=1m,rw").RequiresKernel(), 0))
	assert.DeepEqual(t, mustParse(t, "inode64,noswap,huge=always").RequiresKernel(), []string{"huge", "noswap", "inode64"})
	assert.DeepEqual(t, mustParse(t, "inode32").RequiresKernel(), []string{"inode32"})
}

func TestResolveIDs(t *testing.T) {
	t.Parallel()
	users := map[string]int{"app": 1000, "bad": -1}
	groups := map[string]int{"staff": 50}
	lookup := func(m map[string]int) func(string) (int, error) {
		return func(name string) (int, error) {
			id, ok := m[name]
			if !ok {
				return 0, errors.New("no such user or group: " + name)
			}
			return id, nil
		}
	}

	o, err := mustParse(t, "uid=app,gid=staff,size=1m").ResolveIDs(lookup(users), lookup(groups))
	assert.NilError(t, err)
	assert.Equal(t, o.Data(), "size=1m,uid=1000,gid=50")

	o, err = mustParse(t, "uid=0").ResolveIDs(lookup(nil), lookup(nil))
	assert.NilError(t, err)
	assert.Equal(t, o.Data(), "uid=0")

	_, err = mustParse(t, "gid=nogroup").ResolveIDs(lookup(users), lookup(groups))
	assert.Check(t, is.ErrorContains(err, `invalid tmpfs option "gid=nogroup": no such user or group: nogroup`))
	assert.Check(t, errdefs.IsInvalidArgument(err))

	_, err = mustParse(t, "uid=bad").ResolveIDs(lookup(users), lookup(groups))
	assert.Check(t, is.ErrorContains(err, `invalid tmpfs option "uid=bad"`))
}

func TestReleaseAtLeast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		release      string
		major, minor int
		want         bool
	}{
		{"6.1.0-18-amd64", 6, 4, false},
		{"6.4.0", 6, 4, true},
		{"6.18.3", 6, 4, true},
		{"5.10.0-28-cloud-amd64", 5, 9, true},
		{"5.8", 5, 9, false},
		{"4.19.0+", 4, 7, true},
		{"4.7-rc1", 4, 7, true},
		{"3.10.0-1160.el7.x86_64", 4, 7, false},
		{"", 4, 7, false},
		{"garbage", 4, 7, false},
	}
	for _, tc := range tests {
		assert.Check(t, is.Equal(releaseAtLeast(tc.release, tc.major, tc.minor), tc.want), tc.release)
	}
}

func TestKernelSupports(t *testing.T) {
	t.Parallel()
	assert.Check(t, KernelSupports("size"), "options every kernel knows report true")
	release := kernelRelease()
	if releaseAtLeast(release, 5, 9) {
		// The probe (as root) or the release fallback must agree with the
		// release on an option with no build-time switch.
		assert.Check(t, KernelSupports("inode64"), release)
		assert.Check(t, KernelSupports("inode32"), release)
	}
	if releaseAtLeast(release, 6, 4) {
		assert.Check(t, KernelSupports("noswap"), release)
	}
	// huge=within_size needs transparent huge pages for shmem, which the
	// kernel then shows in sysfs; without the right to probe (not root),
	// the release decides.
	wantHuge := releaseAtLeast(release, 4, 7)
	if fd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC); err == nil {
		unix.Close(fd)
		_, statErr := os.Stat("/sys/kernel/mm/transparent_hugepage/shmem_enabled")
		wantHuge = statErr == nil
	}
	assert.Check(t, is.Equal(KernelSupports("huge"), wantHuge), release)
	// An option no kernel has is refused by the probe and by the fallback.
	assert.Check(t, !probeKernel(kernelProbe{key: "no_such_option", major: 99}))
	assert.Check(t, !probeKernel(kernelProbe{key: "huge", value: "bogus", major: 99}))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "rw", "rw,", "noexec,size=64m", "size=50%", "mode=1777,uid=1000,gid=nobody",
		"mpol=bind:0,2-3,rw", "rw,size=8192k,exec,size=4096k,noexec", "huge=within_size,noswap,inode64",
		"tmpcopyup", "notmpcopyup,rshared", "nr_inodes=1k,nr_blocks=2m", "defaults", "size=010",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := Parse(s)
		if err != nil {
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("Parse(%q): error %v is not invalid argument", s, err)
			}
			return
		}
		canon := o.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, canon, err)
		}
		if !reflect.DeepEqual(o, again) {
			t.Fatalf("Parse(%q) = %#v, Parse(%q) = %#v", s, o, canon, again)
		}
		// Merging with the defaults keeps the result parseable.
		merged := Merge(DefaultFlags, o)
		if _, err := Parse(merged.String()); err != nil {
			t.Fatalf("merged %q does not parse: %v", merged.String(), err)
		}
	})
}
