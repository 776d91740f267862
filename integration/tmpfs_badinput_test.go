package integration

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/berth-project/berth/integration/internal/harness"
)

// tfBadCLI is a `berth create` that must fail with exit 125 and a message
// naming the bad part.
type tfBadCLI struct {
	name string
	args []string // before the image
	want []string // in stderr
}

// tfBadAPI is a POST /containers/create that must fail with status 400.
type tfBadAPI struct {
	name       string
	hostConfig map[string]any
	volumes    map[string]any // Config.Volumes
	want       string         // in the message
}

func tfRunBadCLI(t *testing.T, d *harness.Daemon, cases []tfBadCLI) {
	t.Helper()
	for _, tc := range cases {
		t.Run("cli/"+tc.name, func(t *testing.T) {
			args := append(append([]string{"create", "--network", "none"}, tc.args...), "busybox", "true")
			d.Fails(t, 125, tc.want, args...)
		})
	}
}

func tfRunBadAPI(t *testing.T, d *harness.Daemon, cases []tfBadAPI) {
	t.Helper()
	for _, tc := range cases {
		t.Run("api/"+tc.name, func(t *testing.T) {
			hc := map[string]any{"NetworkMode": "none"}
			for k, v := range tc.hostConfig {
				hc[k] = v
			}
			req := map[string]any{"Image": "busybox", "Cmd": []string{"true"}, "HostConfig": hc}
			if tc.volumes != nil {
				req["Volumes"] = tc.volumes
			}
			r := d.API(t, "POST", "/containers/create", req)
			assert.Equal(t, r.Status, 400, "%s", r.Body)
			assert.Assert(t, strings.Contains(r.Message(), tc.want), "message %q does not contain %q", r.Message(), tc.want)
		})
	}
}

// TestTmpfsBadInput runs the bad-input table through the CLI and the raw
// API: every case is refused at create with a 4xx (exit 125) and a message
// that names the bad part, and afterwards `ps -a`, the data root's
// containers directory, the volumes and the host's mount table show
// nothing new.
func TestTmpfsBadInput(t *testing.T) {
	d := harness.NewWithImage(t)
	dir := t.TempDir()
	before := d.Snapshot(t)
	dup := "Duplicate mount point: /p"
	tfRunBadCLI(t, d, []tfBadCLI{
		// options
		{"unknown", []string{"--tmpfs", "/run:foobar"}, []string{`invalid tmpfs option "foobar"`}},
		{"empty", []string{"--tmpfs", "/run:rw,"}, []string{`invalid tmpfs option ""`, "empty option"}},
		{"size", []string{"--tmpfs", "/run:size=abc"}, []string{`invalid tmpfs option "size=abc"`}},
		{"size-colon", []string{"--tmpfs", "/run:rw,size=1g:x"}, []string{`invalid tmpfs option "size=1g:x"`}},
		{"size-octal", []string{"--tmpfs", "/run:size=010"}, []string{`invalid tmpfs option "size=010"`}},
		{"mode", []string{"--tmpfs", "/run:mode=999"}, []string{`invalid tmpfs option "mode=999"`}},
		{"uid-name", []string{"--tmpfs", "/run:uid=x"}, []string{`invalid tmpfs option "uid=x"`, `no user "x"`}},
		{"gid-name", []string{"--tmpfs", "/run:gid=nosuch"}, []string{`invalid tmpfs option "gid=nosuch"`, `no group "nosuch"`}},
		{"nr_inodes", []string{"--tmpfs", "/run:nr_inodes=abc"}, []string{`invalid tmpfs option "nr_inodes=abc"`}},
		{"mpol", []string{"--tmpfs", "/run:mpol=bogus"}, []string{`invalid tmpfs option "mpol=bogus"`}},
		{"huge", []string{"--tmpfs", "/run:huge=bogus"}, []string{`invalid tmpfs option "huge=bogus"`}},
		{"flag-value", []string{"--tmpfs", "/run:exec=1"}, []string{`invalid tmpfs option "exec=1"`}},
		{"bind", []string{"--tmpfs", "/run:bind"}, []string{`invalid tmpfs option "bind"`}},
		{"copyup-twice", []string{"--tmpfs", "/run:tmpcopyup,notmpcopyup"}, []string{`invalid tmpfs option "notmpcopyup"`, "can only be set once"}},
		{"mount-uid", []string{"--mount", "type=tmpfs,dst=/p,tmpfs-uid=nosuch"}, []string{`invalid tmpfs option "uid=nosuch"`}},
		{"mount-size", []string{"--mount", "type=tmpfs,dst=/p,tmpfs-size=abc"}, []string{"invalid value for tmpfs-size: abc"}},
		{"mount-mode", []string{"--mount", "type=tmpfs,dst=/p,tmpfs-mode=999"}, []string{"invalid value for tmpfs-mode: 999"}},
		// paths
		{"relative", []string{"--tmpfs", "run"}, []string{"invalid mount path: 'run' mount path must be absolute"}},
		{"root", []string{"--tmpfs", "/"}, []string{"invalid specification: destination can't be '/'"}},
		{"root-slashes", []string{"--tmpfs", "//:size=1m"}, []string{"destination can't be '/'"}},
		{"mount-relative", []string{"--mount", "type=tmpfs,dst=p"}, []string{`invalid mount config for type "tmpfs": invalid mount path: 'p' mount path must be absolute`}},
		{"mount-root", []string{"--mount", "type=tmpfs,dst=/"}, []string{`invalid mount config for type "tmpfs": invalid specification: destination can't be '/'`}},
		// fields
		{"mount-source", []string{"--mount", "type=tmpfs,src=/tmp,dst=/p"}, []string{`invalid mount config for type "tmpfs": field Source must not be specified`}},
		{"tmpfs-opts-on-bind", []string{"--mount", "type=bind,src=" + dir + ",dst=/p,tmpfs-size=1m"}, []string{"cannot mix 'tmpfs-*' options with mount type 'bind'"}},
		// duplicates, every pair of kinds
		{"tmpfs-twice", []string{"--tmpfs", "/p", "--tmpfs", "/p:size=1m"}, []string{dup}},
		{"tmpfs-twice-cleaned", []string{"--tmpfs", "/p", "--tmpfs", "/p/"}, []string{dup}},
		{"tmpfs+mount-tmpfs", []string{"--tmpfs", "/p", "--mount", "type=tmpfs,dst=/p"}, []string{dup}},
		{"mount-tmpfs+tmpfs-cleaned", []string{"--mount", "type=tmpfs,dst=/p/", "--tmpfs", "/p"}, []string{dup}},
		{"tmpfs+bind", []string{"--tmpfs", "/p", "-v", dir + ":/p"}, []string{dup}},
		{"tmpfs+named", []string{"--tmpfs", "/p", "-v", "tfvol:/p"}, []string{dup}},
		{"tmpfs+mount-volume", []string{"--tmpfs", "/p", "--mount", "type=volume,dst=/p"}, []string{dup}},
		{"tmpfs+mount-bind", []string{"--tmpfs", "/p", "--mount", "type=bind,src=" + dir + ",dst=/p"}, []string{dup}},
		{"mount-tmpfs+bind", []string{"--mount", "type=tmpfs,dst=/p", "-v", dir + ":/p"}, []string{dup}},
		{"mount-tmpfs+named", []string{"--mount", "type=tmpfs,dst=/p", "-v", "tfvol:/p"}, []string{dup}},
		{"mount-tmpfs-twice", []string{"--mount", "type=tmpfs,dst=/p", "--mount", "type=tmpfs,dst=/p"}, []string{dup}},
		{"mount-tmpfs+mount-bind", []string{"--mount", "type=tmpfs,dst=/p", "--mount", "type=bind,src=" + dir + ",dst=/p"}, []string{dup}},
		{"bind+mount-bind", []string{"-v", dir + ":/p", "--mount", "type=bind,src=" + dir + ",dst=/p"}, []string{dup}},
	})
	tfRunBadAPI(t, d, []tfBadAPI{
		{"unknown", map[string]any{"Tmpfs": map[string]string{"/run": "foobar"}}, nil, `invalid tmpfs option "foobar"`},
		{"empty", map[string]any{"Tmpfs": map[string]string{"/run": "rw,"}}, nil, `invalid tmpfs option ""`},
		{"size", map[string]any{"Tmpfs": map[string]string{"/run": "size=abc"}}, nil, `invalid tmpfs option "size=abc"`},
		{"mode", map[string]any{"Tmpfs": map[string]string{"/run": "mode=999"}}, nil, `invalid tmpfs option "mode=999"`},
		{"uid", map[string]any{"Tmpfs": map[string]string{"/run": "uid=x"}}, nil, `invalid tmpfs option "uid=x"`},
		{"huge", map[string]any{"Tmpfs": map[string]string{"/run": "huge=bogus"}}, nil, `invalid tmpfs option "huge=bogus"`},
		{"relative", map[string]any{"Tmpfs": map[string]string{"run": ""}}, nil, "invalid mount path: 'run' mount path must be absolute"},
		{"root", map[string]any{"Tmpfs": map[string]string{"/": ""}}, nil, "destination can't be '/'"},
		{"root-slashes", map[string]any{"Tmpfs": map[string]string{"//": ""}}, nil, "destination can't be '/'"},
		{"dup-cleaned", map[string]any{"Tmpfs": map[string]string{"/p": "", "/p/": ""}}, nil, dup},
		{"dup-tmpfs+mount", map[string]any{"Tmpfs": map[string]string{"/p": ""}, "Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/p"}}}, nil, dup},
		{"dup-tmpfs+binds", map[string]any{"Tmpfs": map[string]string{"/p": ""}, "Binds": []string{dir + ":/p"}}, nil, dup},
		{"tmpfs-options-on-bind", map[string]any{"Mounts": []map[string]any{{"Type": "bind", "Source": dir, "Target": "/p", "TmpfsOptions": map[string]any{"SizeBytes": 1 << 20}}}}, nil,
			`TmpfsOptions must not be specified on mount type "bind"`},
		{"source-on-tmpfs", map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Source": "x", "Target": "/p"}}}, nil,
			`invalid mount config for type "tmpfs": field Source must not be specified`},
		{"no-target", map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs"}}}, nil, "field Target must not be empty"},
		{"options-unknown", map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/p", "TmpfsOptions": map[string]any{"Options": [][]string{{"foobar"}}}}}}, nil,
			`invalid tmpfs option "foobar"`},
		{"options-length", map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/p", "TmpfsOptions": map[string]any{"Options": [][]string{{"a", "b", "c"}}}}}}, nil,
			"invalid option array length"},
		{"options-uid", map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/p", "TmpfsOptions": map[string]any{"Options": [][]string{{"uid", "x"}}}}}}, nil,
			`invalid tmpfs option "uid=x"`},
		{"mode-too-big", map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/p", "TmpfsOptions": map[string]any{"Mode": 0o17777}}}}, nil,
			"invalid tmpfs mode 17777"},
		{"size-negative", map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/p", "TmpfsOptions": map[string]any{"SizeBytes": -1}}}}, nil,
			"invalid tmpfs size -1"},
	})
	d.AssertUnchanged(t, before, "after the bad-input table")
	// The named volume of the refused "-v tfvol:/p" cases was not made.
	assert.Equal(t, d.OK(t, "volume", "ls", "-q"), "")
}

// TestTmpfsDaemonFlags checks berthd's tmpfs policy flags:
// --max-tmpfs-size refuses larger and unlimited requests at create, naming
// the limit; --default-tmpfs-size sizes the mounts that set none;
// --tmpfs-copyup=false makes empty tmpfs mounts the default, as Docker,
// while tmpcopyup still asks for the copy.
func TestTmpfsDaemonFlags(t *testing.T) {
	t.Run("max-tmpfs-size", func(t *testing.T) {
		d := harness.NewWithImage(t, harness.WithArgs("--max-tmpfs-size", "32m"))
		before := d.Snapshot(t)
		limit := []string{"32m", "--max-tmpfs-size"}
		tfRunBadCLI(t, d, []tfBadCLI{
			{"larger", []string{"--tmpfs", "/run:size=64m"}, append([]string{"size=64m"}, limit...)},
			{"unlimited", []string{"--tmpfs", "/run"}, append([]string{"no size limit"}, limit...)},
			{"percent", []string{"--tmpfs", "/run:size=50%"}, append([]string{"size=50%"}, limit...)},
			{"mount-larger", []string{"--mount", "type=tmpfs,dst=/p,tmpfs-size=33m"}, limit},
			{"mount-unlimited", []string{"--mount", "type=tmpfs,dst=/p"}, limit},
		})
		tfRunBadAPI(t, d, []tfBadAPI{
			{"larger", map[string]any{"Mounts": []map[string]any{{"Type": "tmpfs", "Target": "/p", "TmpfsOptions": map[string]any{"SizeBytes": 64 << 20}}}}, nil, "32m"},
			{"unlimited", map[string]any{"Tmpfs": map[string]string{"/p": ""}}, nil, "--max-tmpfs-size"},
		})
		d.AssertUnchanged(t, before, "after refusals of --max-tmpfs-size")
		kv := tfRunScript(t, d, "runc", []string{"--tmpfs", "/run:size=32m", "--mount", "type=tmpfs,dst=/p,tmpfs-size=16m"},
			`awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts`)
		tfCheck(t, kv, []tfWant{{Key: "mnt_/run", Contains: "size=32768k"}, {Key: "mnt_/p", Contains: "size=16384k"}})
	})

	t.Run("default-size-and-no-copyup", func(t *testing.T) {
		d := harness.NewWithImage(t, harness.WithArgs("--default-tmpfs-size", "16m", "--max-tmpfs-size", "32m", "--tmpfs-copyup=false"))
		kv := tfRunScript(t, d, "runc", []string{"--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp:size=8m,tmpcopyup",
			"--mount", "type=tmpfs,dst=/etc,tmpfs-copyup", "--mount", "type=tmpfs,dst=/var/tmp"}, `
echo "run=$(ls -A /run | tr '\n' ' ')"
echo "seed=$(cat /tmp/seed.txt)"
echo "passwd=$(head -n1 /etc/passwd)"
echo "st_run=$(st /run)"
awk '{print "mnt_" $2 "=" $3 " " $4}' /proc/mounts
`)
		tfCheck(t, kv, []tfWant{
			{Key: "run", Equal: ""},
			{Key: "st_run", Equal: "755 0 0"}, // the image's mode, even without its content
			{Key: "seed", Equal: "image-tmp"},
			{Key: "passwd", Equal: "root:x:0:0:root:/root:/bin/sh"},
			{Key: "mnt_/run", Contains: "size=16384k"},
			{Key: "mnt_/var/tmp", Contains: "size=16384k"},
			{Key: "mnt_/tmp", Contains: "size=8192k"},
		})
	})
}
