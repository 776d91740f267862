package system

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/format"
)

// clientVersion is the Client section of `berth version`.
type clientVersion struct {
	Version    string
	APIVersion string `json:"ApiVersion"`
	GoVersion  string
	GitCommit  string
	Os         string
	Arch       string
}

// versionInfo is the context of `berth version --format`.
type versionInfo struct {
	Client clientVersion
	Server *client.ServerVersionResult
}

// NewVersionCommand returns `berth version`.
func NewVersionCommand(cli *command.Cli) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "version [OPTIONS]",
		Short: "Show the berth version information",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info := versionInfo{Client: clientVersion{
				Version:   command.Version,
				GoVersion: runtime.Version(),
				GitCommit: command.GitCommit,
				Os:        runtime.GOOS,
				Arch:      runtime.GOARCH,
			}}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			sv, serverErr := apiClient.ServerVersion(cmd.Context(), client.ServerVersionOptions{})
			if serverErr == nil {
				info.Server = &sv
			}
			info.Client.APIVersion = apiClient.ClientVersion()
			if tmpl != "" {
				w, err := format.NewWriter(cli.Out, tmpl, nil)
				if err != nil {
					return err
				}
				if err := w.Write(info); err != nil {
					return err
				}
			} else {
				printVersion(cli.Out, info)
			}
			return serverErr
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "Format output using a custom template")
	return cmd
}

func printVersion(out io.Writer, v versionInfo) {
	tw := tabwriter.NewWriter(out, 20, 1, 1, ' ', 0)
	fmt.Fprintln(tw, "Client:")
	fmt.Fprintf(tw, " Version:\t%s\n", v.Client.Version)
	fmt.Fprintf(tw, " API version:\t%s\n", v.Client.APIVersion)
	fmt.Fprintf(tw, " Go version:\t%s\n", v.Client.GoVersion)
	fmt.Fprintf(tw, " Git commit:\t%s\n", v.Client.GitCommit)
	fmt.Fprintf(tw, " OS/Arch:\t%s/%s\n", v.Client.Os, v.Client.Arch)
	if s := v.Server; s != nil {
		name := s.Platform.Name
		if name == "" {
			name = "Berth Engine"
		}
		fmt.Fprintf(tw, "\nServer: %s\n", name)
		fmt.Fprintln(tw, " Engine:")
		fmt.Fprintf(tw, "  Version:\t%s\n", s.Version)
		fmt.Fprintf(tw, "  API version:\t%s (minimum version %s)\n", s.APIVersion, s.MinAPIVersion)
		for _, c := range s.Components {
			if commit := c.Details["GitCommit"]; c.Name == "Engine" && commit != "" {
				fmt.Fprintf(tw, "  Git commit:\t%s\n", commit)
			}
		}
		fmt.Fprintf(tw, "  OS/Arch:\t%s/%s\n", s.Os, s.Arch)
		fmt.Fprintf(tw, "  Experimental:\t%t\n", s.Experimental)
		for _, c := range s.Components {
			if c.Name == "Engine" {
				continue
			}
			fmt.Fprintf(tw, " %s:\n", c.Name)
			fmt.Fprintf(tw, "  Version:\t%s\n", c.Version)
			keys := make([]string, 0, len(c.Details))
			for k := range c.Details {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(tw, "  %s:\t%s\n", k, c.Details[k])
			}
		}
	}
	_ = tw.Flush()
}

// NewInfoCommand returns `berth info`.
func NewInfoCommand(cli *command.Cli) *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "info [OPTIONS]",
		Short: "Display system-wide information",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.Info(cmd.Context(), client.InfoOptions{})
			if err != nil {
				return err
			}
			if tmpl != "" {
				w, err := format.NewWriter(cli.Out, tmpl, nil)
				if err != nil {
					return err
				}
				return w.Write(res.Info)
			}
			i := res.Info
			out := cli.Out
			fmt.Fprintln(out, "Client:")
			fmt.Fprintf(out, " Version:    %s\n", command.Version)
			fmt.Fprintln(out)
			fmt.Fprintln(out, "Server:")
			fmt.Fprintf(out, " Containers: %d\n", i.Containers)
			fmt.Fprintf(out, "  Running: %d\n", i.ContainersRunning)
			fmt.Fprintf(out, "  Paused: %d\n", i.ContainersPaused)
			fmt.Fprintf(out, "  Stopped: %d\n", i.ContainersStopped)
			fmt.Fprintf(out, " Images: %d\n", i.Images)
			fmt.Fprintf(out, " Server Version: %s\n", i.ServerVersion)
			fmt.Fprintf(out, " Storage Driver: %s\n", i.Driver)
			for _, kv := range i.DriverStatus {
				fmt.Fprintf(out, "  %s: %s\n", kv[0], kv[1])
			}
			fmt.Fprintf(out, " Logging Driver: %s\n", i.LoggingDriver)
			if i.CgroupDriver != "" {
				fmt.Fprintf(out, " Cgroup Driver: %s\n", i.CgroupDriver)
			}
			if i.CgroupVersion != "" {
				fmt.Fprintf(out, " Cgroup Version: %s\n", i.CgroupVersion)
			}
			runtimes := make([]string, 0, len(i.Runtimes))
			for name := range i.Runtimes {
				runtimes = append(runtimes, name)
			}
			sort.Strings(runtimes)
			fmt.Fprintf(out, " Runtimes: %s\n", strings.Join(runtimes, " "))
			fmt.Fprintf(out, " Default Runtime: %s\n", i.DefaultRuntime)
			printSecurityOptions(out, i.SecurityOptions)
			fmt.Fprintf(out, " Kernel Version: %s\n", i.KernelVersion)
			fmt.Fprintf(out, " Operating System: %s\n", i.OperatingSystem)
			fmt.Fprintf(out, " OSType: %s\n", i.OSType)
			fmt.Fprintf(out, " Architecture: %s\n", i.Architecture)
			fmt.Fprintf(out, " CPUs: %d\n", i.NCPU)
			fmt.Fprintf(out, " Total Memory: %s\n", format.BinarySize(i.MemTotal))
			fmt.Fprintf(out, " Name: %s\n", i.Name)
			fmt.Fprintf(out, " ID: %s\n", i.ID)
			fmt.Fprintf(out, " Berth Root Dir: %s\n", i.DockerRootDir)
			fmt.Fprintf(out, " Debug Mode: %t\n", i.Debug)
			fmt.Fprintf(out, " Experimental: %t\n", i.ExperimentalBuild)
			if len(i.Labels) > 0 {
				fmt.Fprintln(out, " Labels:")
				for _, l := range i.Labels {
					fmt.Fprintf(out, "  %s\n", l)
				}
			}
			fmt.Fprintf(out, " Live Restore Enabled: %t\n", i.LiveRestoreEnabled)
			for _, w := range i.Warnings {
				fmt.Fprintln(cli.Err, w)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "Format output using a custom template")
	return cmd
}

// printSecurityOptions prints the daemon's security options
// ("name=seccomp,profile=builtin") as the docker CLI does.
func printSecurityOptions(out io.Writer, opts []string) {
	if len(opts) == 0 {
		return
	}
	fmt.Fprintln(out, " Security Options:")
	for _, opt := range opts {
		for _, kv := range strings.Split(opt, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "name" {
				fmt.Fprintf(out, "  %s\n", v)
				continue
			}
			if k != "" {
				k = strings.ToUpper(k[:1]) + k[1:]
			}
			fmt.Fprintf(out, "   %s: %s\n", k, v)
		}
	}
}
