package container

import (
	"fmt"
	"net"
	"sort"
	"strings"

	networktypes "github.com/moby/moby/api/types/network"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

// NewPortCommand returns `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`.
func NewPortCommand(cli *command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Args:  command.RequiresRangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, res, err := inspectContainer(cmd.Context(), cli, args[0])
			if err != nil {
				return err
			}
			var ports networktypes.PortMap
			if res.Container.NetworkSettings != nil {
				ports = res.Container.NetworkSettings.Ports
			}
			lines, err := portLines(ports, args[1:], args[0])
			if err != nil {
				return err
			}
			for _, l := range lines {
				_, _ = fmt.Fprintln(cli.Out, l)
			}
			return nil
		},
	}
}

// portLines renders the mappings as docker port does: every published port
// as "80/tcp -> 0.0.0.0:8080", or the host addresses of one port.
func portLines(ports networktypes.PortMap, want []string, name string) ([]string, error) {
	var out []string
	if len(want) == 1 {
		spec := want[0]
		if !strings.Contains(spec, "/") {
			spec += "/tcp"
		}
		p, err := networktypes.ParsePort(spec)
		if err != nil {
			return nil, fmt.Errorf("invalid port %s: %w", want[0], err)
		}
		bs, ok := ports[p]
		if !ok || len(bs) == 0 {
			return nil, fmt.Errorf("no public port '%s' published for %s", p, name)
		}
		for _, b := range bs {
			out = append(out, net.JoinHostPort(b.HostIP.String(), b.HostPort))
		}
		return out, nil
	}
	for p, bs := range ports {
		for _, b := range bs {
			out = append(out, p.String()+" -> "+net.JoinHostPort(b.HostIP.String(), b.HostPort))
		}
	}
	sort.Strings(out)
	return out, nil
}
