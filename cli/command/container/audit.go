package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/api/types/berth"
	"github.com/berth-project/berth/cli/audit"
	"github.com/berth-project/berth/cli/command"
)

type auditOptions struct {
	containerOptions
	duration time.Duration
	probe    string
	format   string
	verify   bool
}

// NewAuditCommand returns `berth audit`: run an image writable, find what
// it writes, and print the flags that run it read-only.
func NewAuditCommand(cli *command.Cli) *cobra.Command {
	var o auditOptions
	cmd := &cobra.Command{
		Use:   "audit [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Find the tmpfs and volumes an image needs to run read-only",
		Long: "Run the image writable (a private layer) until it exits or for --duration, optionally\n" +
			"probing it with --probe, then print the directories it wrote as read-only run flags.\n" +
			"With --verify (the default) a second, read-only run with those flags proves them.\n" +
			"Run options (-e, -v, --user, ...) apply to both runs.",
		Args: command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.format {
			case "flags", "compose", "labels", "json":
			default:
				return fmt.Errorf("invalid --format %q: want flags, compose, labels or json", o.format)
			}
			cc, err := o.parse(cmd.Flags(), args)
			if err != nil {
				return command.StatusError{Status: command.WithHelp(err, "audit"), StatusCode: 125, Cause: err}
			}
			return runAudit(cmd.Context(), cli, &o, cc)
		},
	}
	flags := cmd.Flags()
	addContainerFlags(flags, &o.containerOptions)
	flags.DurationVar(&o.duration, "duration", 0, "Stop the application after this long (default: wait until it exits)")
	flags.StringVar(&o.probe, "probe", "", "Command run in the container (sh -c) once it started, to exercise it")
	flags.StringVar(&o.format, "format", "flags", "Output: flags, compose, labels or json")
	flags.BoolVar(&o.verify, "verify", true, "Run the image read-only with the flags found and report writes they miss")
	return cmd
}

// auditRun is the outcome of one run of the application.
type auditRun struct {
	id       string
	exitCode int
	running  bool // still running when --duration ended
	probe    int  // the probe's exit status
	logs     string
}

func runAudit(ctx context.Context, cli *command.Cli, o *auditOptions, cc *containerConfig) error {
	apiClient, err := cli.Client()
	if err != nil {
		return err
	}
	img, err := apiClient.ImageInspect(ctx, cc.Config.Image)
	if err != nil {
		return err
	}
	var imageVolumes []string
	if img.Config != nil {
		for v := range img.Config.Volumes {
			imageVolumes = append(imageVolumes, v)
		}
	}

	// The audit run: writable whatever the image's labels or the daemon's
	// defaults say, and without their tmpfs, so that every write lands in
	// the container's own layer.
	first := cloneConfig(cc)
	first.HostConfig.ReadonlyRootfs = false
	first.Config.Labels["io.berth.read-only"] = "false"
	first.Config.Labels["io.berth.tmpfs"] = ""
	first.Config.Labels["io.berth.read-only-tmpfs"] = "false"
	run, writes, err := auditOnce(ctx, cli, apiClient, o, first, true)
	if err != nil {
		return err
	}
	report := audit.Analyze(cc.Config.Image, cc.Config.Cmd, imageVolumes, *writes)
	for _, w := range report.Warnings {
		fmt.Fprintf(cli.Err, "WARNING: %s\n", w)
	}
	if run.exitCode != 0 && !run.running {
		fmt.Fprintf(cli.Err, "WARNING: the application exited with status %d during the audit\n", run.exitCode)
	}

	var verifyErr error
	if o.verify {
		second := cloneConfig(cc)
		second.Name = ""
		second.HostConfig.ReadonlyRootfs = true
		second.Config.Labels["io.berth.tmpfs"] = ""
		second.Config.Labels["io.berth.read-only-tmpfs"] = "false"
		if second.HostConfig.Tmpfs == nil {
			second.HostConfig.Tmpfs = map[string]string{}
		}
		for _, g := range report.Groups {
			switch g.Class {
			case audit.Tmpfs:
				second.HostConfig.Tmpfs[g.Path] = "size=" + g.Size
			case audit.Volume:
				// Anonymous: the verification keeps nothing behind.
				if second.Config.Volumes == nil {
					second.Config.Volumes = map[string]struct{}{}
				}
				second.Config.Volumes[g.Path] = struct{}{}
			}
		}
		check, _, err := auditOnce(ctx, cli, apiClient, o, second, false)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		verifyErr = verdict(run, check)
		if verifyErr != nil {
			fmt.Fprintf(cli.Err, "verify: FAILED: %v\n", verifyErr)
		} else {
			fmt.Fprintln(cli.Err, "verify: the application ran read-only with these flags")
		}
	}

	switch o.format {
	case "flags":
		fmt.Fprintln(cli.Out, report.FlagsLine())
	case "compose":
		fmt.Fprint(cli.Out, report.Compose())
	case "labels":
		fmt.Fprint(cli.Out, report.Labels())
	case "json":
		enc := json.NewEncoder(cli.Out)
		enc.SetIndent("", "  ")
		out := struct {
			audit.Report
			Flags    []string
			Verified *bool `json:",omitempty"`
		}{Report: report, Flags: report.Flags()}
		if o.verify {
			ok := verifyErr == nil
			out.Verified = &ok
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	if verifyErr != nil {
		return command.StatusError{StatusCode: 1}
	}
	return nil
}

// verdict compares the read-only run with the audit run: same exit status
// (or still running), same probe result, and no write refused.
func verdict(audited, check auditRun) error {
	var missed []string
	for _, line := range strings.Split(check.logs, "\n") {
		if strings.Contains(line, "Read-only file system") {
			missed = append(missed, strings.TrimSpace(line))
		}
	}
	switch {
	case len(missed) > 0:
		return fmt.Errorf("writes still refused: %s", strings.Join(missed, "; "))
	case audited.running != check.running:
		return fmt.Errorf("the read-only run ended with status %d, the audit run did not end", check.exitCode)
	case !check.running && check.exitCode != audited.exitCode:
		return fmt.Errorf("the read-only run exited with status %d, the audit run with %d: %s", check.exitCode, audited.exitCode, lastLines(check.logs, 5))
	case check.probe != audited.probe:
		return fmt.Errorf("the probe exited with status %d, in the audit run with %d", check.probe, audited.probe)
	}
	return nil
}

// auditOnce runs the application once: create, start, probe, wait for its
// exit or --duration, stop; with writes, it collects what the container
// wrote. The container and its anonymous volumes are always removed.
func auditOnce(ctx context.Context, cli *command.Cli, apiClient client.APIClient, o *auditOptions, cc *containerConfig, writes bool) (auditRun, *berth.Writes, error) {
	var run auditRun
	id, err := createContainer(ctx, cli, cc, pullNever)
	if err != nil {
		return run, nil, err
	}
	run.id = id
	defer func() {
		// A fresh context: the removal must happen even when ctx ended.
		rmCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := apiClient.ContainerRemove(rmCtx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			fmt.Fprintf(cli.Err, "WARNING: removing the audit container %s: %v\n", id[:12], err)
		}
	}()
	wait := apiClient.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: containertypes.WaitConditionNextExit})
	if _, err := apiClient.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return run, nil, err
	}
	if o.probe != "" {
		if run.probe, err = probe(ctx, cli, apiClient, id, o.probe); err != nil {
			return run, nil, err
		}
	}
	var before berth.Writes
	var timeout <-chan time.Time
	if o.duration > 0 {
		timer := time.NewTimer(o.duration)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case res := <-wait.Result:
		run.exitCode = int(res.StatusCode)
	case err := <-wait.Error:
		return run, nil, err
	case <-timeout:
		run.running = true
		if writes {
			// Read before the stop: an application removes some of what
			// it needed (a pid file, a socket) on its way out.
			if before, err = containerWrites(ctx, cli, id); err != nil {
				return run, nil, err
			}
		}
		stop := 10
		if _, err := apiClient.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &stop}); err != nil {
			return run, nil, err
		}
	case <-ctx.Done():
		return run, nil, ctx.Err()
	}
	if run.logs, err = containerLogs(ctx, apiClient, id); err != nil {
		return run, nil, err
	}
	if !writes {
		return run, nil, nil
	}
	after, err := containerWrites(ctx, cli, id)
	if err != nil {
		return run, nil, err
	}
	w := audit.Merge(before, after)
	return run, &w, nil
}

// containerWrites is what the container wrote so far (its writable layer
// and volumes).
func containerWrites(ctx context.Context, cli *command.Cli, id string) (berth.Writes, error) {
	var w berth.Writes
	err := getBerth(ctx, cli, "/containers/"+url.PathEscape(id)+"/berth/writes", &w)
	return w, err
}

// probe runs sh -c cmd in the container and returns its exit status; its
// output goes to stderr.
func probe(ctx context.Context, cli *command.Cli, apiClient client.APIClient, id, cmd string) (int, error) {
	res, err := apiClient.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: []string{"sh", "-c", cmd}, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return 0, fmt.Errorf("probe: %w", err)
	}
	att, err := apiClient.ExecAttach(ctx, res.ID, client.ExecAttachOptions{})
	if err != nil {
		return 0, fmt.Errorf("probe: %w", err)
	}
	_, err = stdcopy.StdCopy(cli.Err, cli.Err, att.Reader)
	att.Close()
	if err != nil {
		return 0, fmt.Errorf("probe: %w", err)
	}
	ins, err := apiClient.ExecInspect(ctx, res.ID, client.ExecInspectOptions{})
	if err != nil {
		return 0, fmt.Errorf("probe: %w", err)
	}
	return ins.ExitCode, nil
}

func containerLogs(ctx context.Context, apiClient client.APIClient, id string) (string, error) {
	rc, err := apiClient.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var b strings.Builder
	if _, err := stdcopy.StdCopy(&b, &b, rc); err != nil {
		return "", err
	}
	return b.String(), nil
}

// getBerth GETs one of Berth's own endpoints, which Docker's client does
// not know, as JSON into v.
func getBerth(ctx context.Context, cli *command.Cli, path string, v any) error {
	host := cli.Host
	if host == "" {
		host = command.DefaultHost
	}
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return fmt.Errorf("host %q: only unix:// sockets are supported", host)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://berth"+path, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var msg struct{ Message string }
		if json.Unmarshal(body, &msg) == nil && msg.Message != "" {
			return errors.New(msg.Message)
		}
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.Unmarshal(body, v)
}

// cloneConfig copies what the audit changes between its runs.
func cloneConfig(cc *containerConfig) *containerConfig {
	cfg := *cc.Config
	hc := *cc.HostConfig
	cfg.Labels = maps.Clone(cc.Config.Labels)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Volumes = maps.Clone(cc.Config.Volumes)
	hc.Tmpfs = maps.Clone(cc.HostConfig.Tmpfs)
	hc.AutoRemove = false
	return &containerConfig{Config: &cfg, HostConfig: &hc, Name: cc.Name}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
