package kube

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	volumetypes "github.com/moby/moby/api/types/volume"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/berth-project/berth/api/types/berth"
)

func loadFixtures(t *testing.T, names ...string) []berth.InspectResponse {
	t.Helper()
	var out []berth.InspectResponse
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", n+".json"))
		assert.NilError(t, err)
		var c berth.InspectResponse
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		assert.NilError(t, dec.Decode(&c), n)
		out = append(out, c)
	}
	return out
}

// loadVolumes reads a list of volume inspect responses, strictly.
func loadVolumes(t *testing.T, name string) map[string]volumetypes.Volume {
	t.Helper()
	if name == "" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	assert.NilError(t, err)
	var list []volumetypes.Volume
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	assert.NilError(t, dec.Decode(&list), name)
	out := map[string]volumetypes.Volume{}
	for _, v := range list {
		out[v.Name] = v
	}
	return out
}

// TestGenerateGolden compares the YAML and the warnings of each case with
// its golden file (go test -update rewrites them),
// and decodes every document strictly into the k8s.io/api types.
func TestGenerateGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fixtures []string
		volumes  string
		opts     Options
	}{
		{"web-pod", []string{"web"}, "", Options{}},
		{"web-deployment-service", []string{"web"}, "", Options{Kind: KindDeployment, Service: true}},
		{"mounts-pod", []string{"mounts"}, "", Options{}},
		{"two-containers-service", []string{"web", "sidecar"}, "", Options{Service: true}},
		{"tmpfs-volumes-pod", []string{"mem-a", "mem-b"}, "mem-volumes", Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Generate(loadFixtures(t, tc.fixtures...), loadVolumes(t, tc.volumes), tc.opts)
			assert.NilError(t, err)
			out, err := r.YAML()
			assert.NilError(t, err)
			got := string(out) + "# warnings:\n"
			for _, w := range r.Warnings {
				got += "# " + w + "\n"
			}
			golden.Assert(t, got, tc.name+".golden")
			strictDecode(t, out)
		})
	}
}

// strictDecode decodes every document into its k8s.io/api type with
// unknown fields refused.
func strictDecode(t *testing.T, out []byte) {
	t.Helper()
	for _, doc := range splitDocuments(out) {
		var kind struct{ Kind string }
		assert.NilError(t, yaml.Unmarshal(doc, &kind))
		var obj any
		switch kind.Kind {
		case "Pod":
			obj = &corev1.Pod{}
		case "Deployment":
			obj = &appsv1.Deployment{}
		case "Service":
			obj = &corev1.Service{}
		case "PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		default:
			t.Fatalf("unexpected kind %q", kind.Kind)
		}
		assert.NilError(t, yaml.UnmarshalStrict(doc, obj), string(doc))
	}
}

func TestGeneratePodFields(t *testing.T) {
	t.Parallel()
	r, err := Generate(loadFixtures(t, "web", "mounts"), nil, Options{})
	assert.NilError(t, err)
	pod := r.Objects[0].(*corev1.Pod)
	web := pod.Spec.Containers[0]
	assert.DeepEqual(t, web.Command, []string{"/docker-entrypoint.sh"})
	assert.DeepEqual(t, web.Args, []string{"nginx", "-g", "daemon off;"})
	assert.Equal(t, *web.SecurityContext.RunAsUser, int64(101))
	assert.Equal(t, *web.SecurityContext.RunAsGroup, int64(101))
	assert.Equal(t, web.SecurityContext.SeccompProfile.Type, corev1.SeccompProfileTypeRuntimeDefault)
	assert.Equal(t, web.Resources.Limits.Cpu().MilliValue(), int64(1500))
	db := pod.Spec.Containers[1]
	assert.Equal(t, db.Name, "db-1")
	assert.Equal(t, db.SecurityContext.SeccompProfile.Type, corev1.SeccompProfileTypeUnconfined)
	assert.Equal(t, db.SecurityContext.RunAsUser, (*int64)(nil))
	assert.Equal(t, db.Resources.Limits.Cpu().MilliValue(), int64(500))
	// One copy-up init container per copied tmpfs: /run of web, and
	// /run/postgresql and /var/log/postgresql (added by a label) of db; /tmp, /var/cache/nginx and the --mount
	// tmpfs are not copied up.
	var inits []string
	for _, c := range pod.Spec.InitContainers {
		dest, ok := CopyUpDest(c)
		assert.Assert(t, ok, c.Name)
		inits = append(inits, dest)
	}
	assert.DeepEqual(t, inits, []string{"/run", "/run/postgresql", "/var/log/postgresql"})
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	assert.Equal(t, vols["volume-pg-data"].PersistentVolumeClaim.ClaimName, "pg-data")
	assert.Equal(t, vols["host-srv-pg-conf"].HostPath.Path, "/srv/pg/conf")
	assert.Equal(t, vols["db-1-tmpfs-var-run-secrets"].EmptyDir.SizeLimit.Value(), int64(1<<20))
	assert.Equal(t, len(r.Comments), 1)
	assert.Check(t, is.Contains(r.Comments[0], "hostPath"))
	warnings := strings.Join(r.Warnings, "\n")
	for _, want := range []string{"user \"postgres\" is a name", "apparmor=unconfined", "--device", "health check", "--pids-limit", "network backend", "size \"10%\"", "restart policies differ"} {
		assert.Check(t, is.Contains(warnings, want))
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	_, err := Generate(nil, nil, Options{})
	assert.ErrorContains(t, err, "no container")
	_, err = Generate(loadFixtures(t, "web"), nil, Options{Kind: "job"})
	assert.ErrorContains(t, err, `invalid --type "job"`)
	_, err = Generate([]berth.InspectResponse{{}}, nil, Options{})
	assert.ErrorContains(t, err, "without Config")
}

func TestCopyUpDest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    corev1.Container
		want string
		ok   bool
	}{
		{corev1.Container{Name: CopyUpPrefix + "a-run", Command: CopyUpCommand("/run")}, "/run", true},
		{corev1.Container{Name: CopyUpPrefix + "a", Command: CopyUpCommand("/var/lib/x/")}, "/var/lib/x", true},
		{corev1.Container{Name: "init", Command: CopyUpCommand("/run")}, "", false},
		{corev1.Container{Name: CopyUpPrefix + "a", Command: []string{"cp", "-a", "/run/.", "/elsewhere/"}}, "", false},
		{corev1.Container{Name: CopyUpPrefix + "a", Command: CopyUpCommand("/run"), Args: []string{"x"}}, "", false},
		{corev1.Container{Name: CopyUpPrefix + "a", Command: []string{"cp", "-a", "run/.", "/berth-copyup/run/"}}, "", false},
	} {
		got, ok := CopyUpDest(tc.c)
		assert.Equal(t, ok, tc.ok, "%v", tc.c.Command)
		assert.Equal(t, got, tc.want)
	}
}

func TestDNSName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"web":                          "web",
		"My_App.1":                     "my-app-1",
		"--x--":                        "x",
		"a__b":                         "a-b",
		strings.Repeat("a", 70):        strings.Repeat("a", 63),
		strings.Repeat("a", 62) + "_b": strings.Repeat("a", 62),
	} {
		assert.Equal(t, dnsName(in), want, in)
	}
}
