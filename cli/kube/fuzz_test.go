package kube

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodePlan feeds arbitrary manifests to Decode and PlanPod: they
// return errors, never panic, and every plan names its containers after
// its Pod.
func FuzzDecodePlan(f *testing.F) {
	for _, name := range []string{"web-pod.golden", "web-deployment-service.golden", "mounts-pod.golden", "tmpfs-volumes-pod.golden"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x}]}\n---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		for i := range m.Pods {
			pl, err := PlanPod(&m.Pods[i], "")
			if err != nil {
				continue
			}
			for _, c := range pl.Containers {
				if c.Config.Labels[PodLabel] != m.Pods[i].Name {
					t.Fatalf("container %s is not labelled with its pod %s", c.Name, m.Pods[i].Name)
				}
			}
		}
	})
}
