package container

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/docker/go-units"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/format"
)

const statsTableFormat = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

var statsHeader = map[string]string{
	"ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT",
	"MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}

// StatsRow is one row of docker stats, computed from a sample as the
// docker CLI computes it.
type StatsRow struct {
	ID, Container, Name                              string
	CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs string
}

// statsRowOf renders a sample. The CPU share is the container's CPU time
// over the host's between the previous sample and this one, times the
// CPUs; the memory usage leaves out the page cache (inactive_file).
func statsRowOf(container string, s containertypes.StatsResponse) StatsRow {
	r := StatsRow{ID: format.TruncateID(s.ID), Container: container, Name: strings.TrimPrefix(s.Name, "/")}
	cpu := 0.0
	cpuDelta := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	sysDelta := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
	cpus := float64(s.CPUStats.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	if sysDelta > 0 && cpuDelta > 0 {
		cpu = cpuDelta / sysDelta * cpus * 100
	}
	r.CPUPerc = fmt.Sprintf("%.2f%%", cpu)
	mem := float64(s.MemoryStats.Usage)
	if v, ok := s.MemoryStats.Stats["inactive_file"]; ok && float64(v) < mem {
		mem -= float64(v)
	} else if v, ok := s.MemoryStats.Stats["total_inactive_file"]; ok && float64(v) < mem {
		mem -= float64(v)
	}
	limit := float64(s.MemoryStats.Limit)
	r.MemUsage = units.BytesSize(mem) + " / " + units.BytesSize(limit)
	memPerc := 0.0
	if limit > 0 {
		memPerc = mem / limit * 100
	}
	r.MemPerc = fmt.Sprintf("%.2f%%", memPerc)
	var rx, tx float64
	for _, n := range s.Networks {
		rx += float64(n.RxBytes)
		tx += float64(n.TxBytes)
	}
	r.NetIO = units.HumanSizeWithPrecision(rx, 3) + " / " + units.HumanSizeWithPrecision(tx, 3)
	var rd, wr float64
	for _, e := range s.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			rd += float64(e.Value)
		case "write":
			wr += float64(e.Value)
		}
	}
	r.BlockIO = units.HumanSizeWithPrecision(rd, 3) + " / " + units.HumanSizeWithPrecision(wr, 3)
	r.PIDs = fmt.Sprint(s.PidsStats.Current)
	return r
}

// NewStatsCommand returns `berth stats`.
func NewStatsCommand(cli *command.Cli) *cobra.Command {
	var (
		all, noStream, noTrunc bool
		tmpl                   string
	)
	cmd := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			names := args
			if len(names) == 0 {
				list, err := apiClient.ContainerList(ctx, client.ContainerListOptions{All: all})
				if err != nil {
					return err
				}
				for _, c := range list.Items {
					names = append(names, c.ID)
				}
			}
			if tmpl == "" || tmpl == "table" {
				tmpl = statsTableFormat
			}
			if noStream {
				rows, err := sampleAll(ctx, apiClient, names)
				if err != nil {
					return err
				}
				return writeStats(cli, tmpl, rows, noTrunc)
			}
			_, isTerm := cli.OutFd()
			for {
				rows, err := sampleAll(ctx, apiClient, names)
				if err != nil {
					return err
				}
				if isTerm {
					fmt.Fprint(cli.Out, "\033[2J\033[H")
				}
				if err := writeStats(cli, tmpl, rows, noTrunc); err != nil {
					return err
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(time.Second):
				}
			}
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	flags.BoolVar(&noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	flags.BoolVar(&noTrunc, "no-trunc", false, "Do not truncate output")
	flags.StringVar(&tmpl, "format", "", "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
	return cmd
}

// sampleAll takes one sample (with its previous one) of each container,
// in parallel; a container that does not run shows zeros, as in Docker.
func sampleAll(ctx context.Context, apiClient client.APIClient, names []string) ([]StatsRow, error) {
	rows := make([]StatsRow, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := apiClient.ContainerStats(ctx, n, client.ContainerStatsOptions{Stream: false, IncludePreviousSample: true})
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			var s containertypes.StatsResponse
			if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
				errs[i] = err
				return
			}
			rows[i] = statsRowOf(n, s)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

func writeStats(cli *command.Cli, tmpl string, rows []StatsRow, noTrunc bool) error {
	w, err := format.NewWriter(cli.Out, tmpl, statsHeader)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if noTrunc {
			r.ID = r.Container
		}
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return w.Flush()
}
