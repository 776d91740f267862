package system

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/format"
	"github.com/berth-project/berth/cli/opts"
)

// NewSystemCommand returns `berth system` with df, prune, events and info.
func NewSystemCommand(cli *command.Cli) *cobra.Command {
	return command.Group(cli, "system", "Manage Berth",
		newDiskUsageCommand(cli), newSystemPruneCommand(cli), NewEventsCommand(cli), NewInfoCommand(cli),
	)
}

const dfTableFormat = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"

var dfHeader = map[string]string{
	"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE",
}

// dfRow is one row of docker system df.
type dfRow struct {
	Type        string
	TotalCount  string
	Active      string
	Size        string
	Reclaimable string
}

// dfRowOf renders counts and sizes as Docker does: a percentage of the
// size follows a reclaimable amount when there is a size.
func dfRowOf(typ string, total, active, size, reclaimable int64, percent bool) dfRow {
	r := dfRow{Type: typ, TotalCount: fmt.Sprint(total), Active: fmt.Sprint(active), Size: units.HumanSize(float64(size)),
		Reclaimable: units.HumanSize(float64(reclaimable))}
	if percent && size > 0 {
		r.Reclaimable += fmt.Sprintf(" (%d%%)", reclaimable*100/size)
	}
	return r
}

func newDiskUsageCommand(cli *command.Cli) *cobra.Command {
	var (
		verbose bool
		tmpl    string
	)
	cmd := &cobra.Command{
		Use:   "df [OPTIONS]",
		Short: "Show Berth disk usage",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			du, err := apiClient.DiskUsage(cmd.Context(), client.DiskUsageOptions{Containers: true, Images: true, Volumes: true, BuildCache: true, Verbose: verbose})
			if err != nil {
				return err
			}
			rows := []dfRow{
				dfRowOf("Images", du.Images.TotalCount, du.Images.ActiveCount, du.Images.TotalSize, du.Images.Reclaimable, true),
				dfRowOf("Containers", du.Containers.TotalCount, du.Containers.ActiveCount, du.Containers.TotalSize, du.Containers.Reclaimable, true),
				dfRowOf("Local Volumes", du.Volumes.TotalCount, du.Volumes.ActiveCount, du.Volumes.TotalSize, du.Volumes.Reclaimable, true),
				dfRowOf("Build Cache", du.BuildCache.TotalCount, du.BuildCache.ActiveCount, du.BuildCache.TotalSize, du.BuildCache.Reclaimable, false),
			}
			if err := format.WriteAll(cli.Out, format.ListFormat(tmpl, false, "", dfTableFormat), dfHeader, rows); err != nil {
				return err
			}
			if verbose {
				return printVerboseDiskUsage(cli, du)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "Show detailed information on space usage")
	cmd.Flags().StringVar(&tmpl, "format", "", "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
	return cmd
}

func printVerboseDiskUsage(cli *command.Cli, du client.DiskUsageResult) error {
	out := cli.Out
	now := time.Now()
	fmt.Fprint(out, "\nImages space usage:\n\n")
	w, err := format.NewWriter(out, "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Created}}\t{{.Size}}\t{{.Shared}}\t{{.Unique}}\t{{.Containers}}", map[string]string{
		"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Created": "CREATED", "Size": "SIZE", "Shared": "SHARED SIZE", "Unique": "UNIQUE SIZE", "Containers": "CONTAINERS",
	})
	if err != nil {
		return err
	}
	for _, img := range du.Images.Items {
		repo, tag := "<none>", "<none>"
		if len(img.RepoTags) > 0 {
			if i := strings.LastIndex(img.RepoTags[0], ":"); i > 0 {
				repo, tag = img.RepoTags[0][:i], img.RepoTags[0][i+1:]
			}
		}
		_ = w.Write(map[string]string{
			"Repository": repo, "Tag": tag, "ID": format.TruncateID(img.ID), "Created": format.SinceUnix(img.Created, now),
			"Size": units.HumanSize(float64(img.Size)), "Shared": units.HumanSize(float64(img.SharedSize)),
			"Unique": units.HumanSize(float64(img.Size - img.SharedSize)), "Containers": fmt.Sprint(img.Containers),
		})
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprint(out, "\nContainers space usage:\n\n")
	w, err = format.NewWriter(out, "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Volumes}}\t{{.Size}}\t{{.Created}}\t{{.Status}}\t{{.Names}}", map[string]string{
		"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "Volumes": "LOCAL VOLUMES", "Size": "SIZE", "Created": "CREATED", "Status": "STATUS", "Names": "NAMES",
	})
	if err != nil {
		return err
	}
	for _, c := range du.Containers.Items {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		vols := 0
		for _, m := range c.Mounts {
			if m.Type == "volume" {
				vols++
			}
		}
		_ = w.Write(map[string]string{
			"ID": format.TruncateID(c.ID), "Image": c.Image, "Command": `"` + format.Ellipsis(c.Command, 20) + `"`, "Volumes": fmt.Sprint(vols),
			"Size": units.HumanSize(float64(c.SizeRw)), "Created": format.SinceUnix(c.Created, now), "Status": c.Status, "Names": name,
		})
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprint(out, "\nLocal Volumes space usage:\n\n")
	w, err = format.NewWriter(out, "table {{.Name}}\t{{.Links}}\t{{.Size}}", map[string]string{"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"})
	if err != nil {
		return err
	}
	for _, v := range du.Volumes.Items {
		links, size := "N/A", "N/A"
		if v.UsageData != nil {
			links, size = fmt.Sprint(v.UsageData.RefCount), units.HumanSize(float64(v.UsageData.Size))
		}
		_ = w.Write(map[string]string{"Name": v.Name, "Links": links, "Size": size})
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nBuild cache usage: 0B")
	return nil
}

func newSystemPruneCommand(cli *command.Cli) *cobra.Command {
	var (
		all, force, withVolumes bool
		filters                 []string
	)
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := opts.ParseFilters(filters)
			if err != nil {
				return err
			}
			if _, ok := f["all"]; ok {
				return errors.New(`"all" filter is not supported; use the --all flag`)
			}
			if !force && !command.Confirm(cli, pruneWarning(all, withVolumes)) {
				return nil
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var reclaimed uint64
			cr, err := apiClient.ContainerPrune(ctx, client.ContainerPruneOptions{Filters: f})
			if err != nil {
				return err
			}
			reclaimed += cr.Report.SpaceReclaimed
			format.WriteDeleted(cli.Out, "Deleted Containers:", cr.Report.ContainersDeleted)
			nr, err := apiClient.NetworkPrune(ctx, client.NetworkPruneOptions{Filters: f})
			switch {
			case errdefs.IsNotFound(err):
				// A daemon without network prune: nothing to report.
			case err != nil:
				return err
			default:
				format.WriteDeleted(cli.Out, "Deleted Networks:", nr.Report.NetworksDeleted)
			}
			if withVolumes {
				vf := maps.Clone(f)
				if vf == nil {
					vf = client.Filters{}
				}
				vr, err := apiClient.VolumePrune(ctx, client.VolumePruneOptions{All: all, Filters: withoutUntil(vf)})
				if err != nil {
					return err
				}
				reclaimed += vr.Report.SpaceReclaimed
				format.WriteDeleted(cli.Out, "Deleted Volumes:", vr.Report.VolumesDeleted)
			}
			if f == nil {
				f = client.Filters{}
			}
			f = f.Add("dangling", fmt.Sprint(!all))
			ir, err := apiClient.ImagePrune(ctx, client.ImagePruneOptions{Filters: f})
			if err != nil {
				return err
			}
			reclaimed += ir.Report.SpaceReclaimed
			format.WriteDeleted(cli.Out, "Deleted Images:", format.PrunedImages(ir.Report.ImagesDeleted))
			return format.WriteReclaimed(cli.Out, reclaimed)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&all, "all", "a", false, "Remove all unused images not just dangling ones")
	flags.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	flags.BoolVar(&withVolumes, "volumes", false, "Prune anonymous volumes")
	flags.StringArrayVar(&filters, "filter", nil, `Provide filter values (e.g. "label=<key>=<value>")`)
	return cmd
}

// withoutUntil drops the until filter, which volume prune does not take.
func withoutUntil(f client.Filters) client.Filters {
	delete(f, "until")
	return f
}

func pruneWarning(all, volumes bool) string {
	items := []string{"all stopped containers", "all networks not used by at least one container"}
	if volumes {
		items = append(items, "all anonymous volumes not used by at least one container")
	}
	if all {
		items = append(items, "all images without at least one container associated to them")
	} else {
		items = append(items, "all dangling images")
	}
	return "WARNING! This will remove:\n  - " + strings.Join(items, "\n  - ")
}

// NewEventsCommand returns `berth events` (also `berth system events`).
func NewEventsCommand(cli *command.Cli) *cobra.Command {
	var (
		since, until, tmpl string
		filters            []string
	)
	cmd := &cobra.Command{
		Use:   "events [OPTIONS]",
		Short: "Get real time events from the server",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := opts.ParseFilters(filters)
			if err != nil {
				return err
			}
			var w *format.Writer
			if tmpl != "" {
				if w, err = format.NewWriter(cli.Out, tmpl, nil); err != nil {
					return err
				}
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res := apiClient.Events(cmd.Context(), client.EventsListOptions{Since: since, Until: until, Filters: f})
			for {
				select {
				case m := <-res.Messages:
					if w != nil {
						if err := w.Write(m); err != nil {
							return err
						}
						if err := w.Flush(); err != nil {
							return err
						}
						continue
					}
					if _, err := fmt.Fprintln(cli.Out, eventLine(m)); err != nil {
						return err
					}
				case err := <-res.Err:
					// The daemon ends the stream at --until.
					if err == nil || errors.Is(err, io.EOF) || errors.Is(err, cmd.Context().Err()) {
						return nil
					}
					return err
				}
			}
		},
	}
	flags := cmd.Flags()
	flags.StringArrayVarP(&filters, "filter", "f", nil, "Filter output based on conditions provided")
	flags.StringVar(&tmpl, "format", "", "Format output using a custom template")
	flags.StringVar(&since, "since", "", "Show all events created since timestamp")
	flags.StringVar(&until, "until", "", "Stream events until this timestamp")
	return cmd
}

// eventLine is docker events' default line: time, type, action, actor and
// its attributes sorted by name.
func eventLine(m events.Message) string {
	t := time.Unix(0, m.TimeNano)
	line := t.Format("2006-01-02T15:04:05.000000000Z07:00") + " " + string(m.Type) + " " + string(m.Action) + " " + m.Actor.ID
	if len(m.Actor.Attributes) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(m.Actor.Attributes)) {
			kv = append(kv, k+"="+m.Actor.Attributes[k])
		}
		line += " (" + strings.Join(kv, ", ") + ")"
	}
	return line
}
