// Package kube implements `berth kube generate|play|down`: Kubernetes YAML
// from containers, and Pods of a YAML file run on Berth. The conversions
// are in cli/kube; this package makes the API calls.
package kube

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	volumetypes "github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
	"github.com/moby/sys/user"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/api/types/berth"
	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/kube"
)

// NewKubeCommand returns `berth kube` and its sub-commands.
func NewKubeCommand(cli *command.Cli) *cobra.Command {
	return command.Group(cli, "kube", "Generate Kubernetes YAML from containers, and play it on Berth",
		newGenerateCommand(cli), newPlayCommand(cli), newDownCommand(cli),
	)
}

func newGenerateCommand(cli *command.Cli) *cobra.Command {
	var o kube.Options
	cmd := &cobra.Command{
		Use:   "generate [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Print a Pod (or Deployment) for containers; several containers become one Pod",
		Long: "Print Kubernetes YAML for the containers. Each tmpfs becomes an emptyDir (medium Memory)\n" +
			"and, when Berth copies the image's content into it, an init container that does the same;\n" +
			"a tmpfs volume (--opt type=tmpfs) is one such emptyDir, mounted by every container that mounts it.\n" +
			"What the YAML cannot express is reported on stderr.",
		Args: command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			var cs []berth.InspectResponse
			for _, name := range args {
				res, err := apiClient.ContainerInspect(cmd.Context(), name, client.ContainerInspectOptions{})
				if err != nil {
					return err
				}
				var c berth.InspectResponse
				if err := json.Unmarshal(res.Raw, &c); err != nil {
					return fmt.Errorf("decoding the inspect response of %s: %w", name, err)
				}
				if c.Config != nil {
					c.Config.User = resolveUser(cmd.Context(), apiClient, c.ID, c.Config.User)
				}
				cs = append(cs, c)
			}
			vols, err := mountedVolumes(cmd.Context(), apiClient, cs)
			if err != nil {
				return err
			}
			r, err := kube.Generate(cs, vols, o)
			if err != nil {
				return err
			}
			out, err := r.YAML()
			if err != nil {
				return err
			}
			for _, w := range r.Warnings {
				_, _ = fmt.Fprintln(cli.Err, "warning: "+w)
			}
			_, err = cli.Out.Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&o.Kind, "type", kube.KindPod, `Kind of object: "pod" or "deployment"`)
	cmd.Flags().BoolVar(&o.Service, "service", false, "Add a Service for the containers' ports")
	return cmd
}

// mountedVolumes inspects the volumes the containers mount: their driver
// options tell a tmpfs volume (a memory emptyDir) from one on disk (a
// claim).
func mountedVolumes(ctx context.Context, apiClient client.APIClient, cs []berth.InspectResponse) (map[string]volumetypes.Volume, error) {
	vols := map[string]volumetypes.Volume{}
	for _, c := range cs {
		for _, m := range c.Mounts {
			if m.Type != mount.TypeVolume || m.Name == "" {
				continue
			}
			if _, ok := vols[m.Name]; ok {
				continue
			}
			res, err := apiClient.VolumeInspect(ctx, m.Name, client.VolumeInspectOptions{})
			if err != nil {
				return nil, fmt.Errorf("container %s: volume %s: %w", strings.TrimPrefix(c.Name, "/"), m.Name, err)
			}
			vols[m.Name] = res.Volume
		}
	}
	return vols, nil
}

func readManifest(cli *command.Cli, file string) (*kube.Manifest, error) {
	var (
		data []byte
		err  error
	)
	if file == "-" {
		data, err = io.ReadAll(cli.In)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	return kube.Decode(data)
}

func newPlayCommand(cli *command.Cli) *cobra.Command {
	var infraImage string
	cmd := &cobra.Command{
		Use:   "play [OPTIONS] FILE",
		Short: "Run the Pods (and Deployments, as one replica) of a Kubernetes YAML file",
		Long: "Run each Pod as containers that share the network namespace of an infra container\n" +
			"(`sleep` in --infra-image, by default the Pod's first image). Init containers run to\n" +
			"completion first, in order. A memory emptyDir used by one container is a tmpfs of it,\n" +
			"filled by Berth's copy-up where `berth kube generate` wrote a copy-up init container.\n" +
			"What Berth cannot honour is reported on stderr. FILE - reads the standard input.",
		Args: command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := readManifest(cli, args[0])
			if err != nil {
				return err
			}
			var plans []*kube.Plan
			for i := range m.Pods {
				pl, err := kube.PlanPod(&m.Pods[i], infraImage)
				if err != nil {
					return err
				}
				plans = append(plans, pl)
			}
			for _, w := range m.Warnings {
				_, _ = fmt.Fprintln(cli.Err, "warning: "+w)
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			for _, pl := range plans {
				for _, w := range pl.Warnings {
					_, _ = fmt.Fprintln(cli.Err, "warning: "+w)
				}
				if err := play(cmd.Context(), apiClient, pl); errors.As(err, new(errAlreadyPlayed)) {
					return err
				} else if err != nil {
					// Leave nothing half-played behind.
					if derr := down(cmd.Context(), apiClient, pl.Pod); derr != nil {
						err = fmt.Errorf("%w (and removing what it created: %v)", err, derr)
					}
					return err
				}
				_, _ = fmt.Fprintln(cli.Out, pl.Pod)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&infraImage, "infra-image", "", "Image with a `sleep` for the container that holds each Pod's network namespace")
	return cmd
}

func play(ctx context.Context, apiClient client.APIClient, pl *kube.Plan) error {
	labels := map[string]string{kube.PodLabel: pl.Pod}
	existing, err := apiClient.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", kube.PodLabel+"="+pl.Pod)})
	if err != nil {
		return err
	}
	if len(existing.Items) > 0 {
		return errAlreadyPlayed{pl.Pod}
	}
	for _, v := range pl.Volumes {
		if _, err := apiClient.VolumeCreate(ctx, client.VolumeCreateOptions{Name: v.Name, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
			return fmt.Errorf("pod %s: volume %s: %w", pl.Pod, v.Name, err)
		}
	}
	for _, v := range pl.Claims {
		if _, err := apiClient.VolumeCreate(ctx, client.VolumeCreateOptions{Name: v}); err != nil {
			return fmt.Errorf("pod %s: volume %s: %w", pl.Pod, v, err)
		}
	}
	for i := range pl.Containers {
		c := &pl.Containers[i]
		res, err := apiClient.ContainerCreate(ctx, client.ContainerCreateOptions{Name: c.Name, Config: &c.Config, HostConfig: &c.HostConfig})
		if err != nil {
			return fmt.Errorf("pod %s: creating %s: %w", pl.Pod, c.Name, err)
		}
		if _, err := apiClient.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
			return fmt.Errorf("pod %s: starting %s: %w", pl.Pod, c.Name, err)
		}
		if c.Role != kube.RoleInit {
			continue
		}
		w := apiClient.ContainerWait(ctx, res.ID, client.ContainerWaitOptions{Condition: containertypes.WaitConditionNotRunning})
		select {
		case r := <-w.Result:
			if r.StatusCode != 0 {
				return fmt.Errorf("pod %s: init container %s exited with %d", pl.Pod, c.Name, r.StatusCode)
			}
		case err := <-w.Error:
			return fmt.Errorf("pod %s: waiting for init container %s: %w", pl.Pod, c.Name, err)
		}
	}
	return nil
}

func newDownCommand(cli *command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "down FILE",
		Short: "Remove the containers and volumes `kube play` created for the Pods of a file",
		Long: "Remove the containers and emptyDir volumes that `berth kube play` created for the\n" +
			"Pods of FILE. Volumes of PersistentVolumeClaims are kept.",
		Args: command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := readManifest(cli, args[0])
			if err != nil {
				return err
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			for _, p := range m.Pods {
				if err := down(cmd.Context(), apiClient, p.Name); err != nil {
					return err
				}
				_, _ = fmt.Fprintln(cli.Out, p.Name)
			}
			return nil
		},
	}
}

// down removes the containers, then the volumes, labelled with the pod.
func down(ctx context.Context, apiClient client.APIClient, pod string) error {
	f := make(client.Filters).Add("label", kube.PodLabel+"="+pod)
	cs, err := apiClient.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	var errs []error
	// The infra container last: the others use its network namespace.
	slices.SortStableFunc(cs.Items, func(a, b containertypes.Summary) int {
		ai, bi := a.Labels[kube.RoleLabel] == kube.RoleInfra, b.Labels[kube.RoleLabel] == kube.RoleInfra
		switch {
		case ai == bi:
			return 0
		case ai:
			return 1
		}
		return -1
	})
	for _, c := range cs.Items {
		if _, err := apiClient.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			errs = append(errs, err)
		}
	}
	vs, err := apiClient.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, v := range vs.Items {
		if _, err := apiClient.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// resolveUser returns the container's user as the numeric "uid:gid" that
// Kubernetes needs, looked up in the container's /etc/passwd and
// /etc/group as the daemon does at start; the spec unchanged when it cannot
// be resolved (generate then reports it).
func resolveUser(ctx context.Context, apiClient client.APIClient, id, spec string) string {
	if spec == "" {
		return spec
	}
	if u, g, ok := strings.Cut(spec, ":"); ok && isNumber(u) && isNumber(g) {
		return spec
	}
	passwd := readContainerFile(ctx, apiClient, id, "/etc/passwd")
	group := readContainerFile(ctx, apiClient, id, "/etc/group")
	eu, err := user.GetExecUser(spec, nil, passwd, group)
	if err != nil {
		return spec
	}
	return strconv.Itoa(eu.Uid) + ":" + strconv.Itoa(eu.Gid)
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// readContainerFile returns a small regular file of the container (through
// the archive endpoint), or nil.
func readContainerFile(ctx context.Context, apiClient client.APIClient, id, path string) io.Reader {
	res, err := apiClient.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: path})
	if err != nil {
		return nil
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	hdr, err := tr.Next()
	if err != nil || hdr.Typeflag != tar.TypeReg {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(tr, 1<<20))
	if err != nil {
		return nil
	}
	return bytes.NewReader(data)
}

// errAlreadyPlayed stops a play before it creates anything, so that the
// clean-up after a failure never touches a Pod played before.
type errAlreadyPlayed struct{ pod string }

func (e errAlreadyPlayed) Error() string {
	return fmt.Sprintf("pod %s is already played: run `berth kube down` first", e.pod)
}
