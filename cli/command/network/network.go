// Package network implements `berth network create|ls|inspect|rm|connect|
// disconnect|prune`, with the docker CLI's flags and output.
package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	networktypes "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/command/system"
	"github.com/berth-project/berth/cli/format"
	"github.com/berth-project/berth/cli/opts"
)

// NewNetworkCommand returns `berth network` and its sub-commands.
func NewNetworkCommand(cli *command.Cli) *cobra.Command {
	return command.Group(cli, "network", "Manage networks",
		newCreateCommand(cli), newListCommand(cli), system.NewTypeInspectCommand(cli, "network"), newRemoveCommand(cli),
		newConnectCommand(cli), newDisconnectCommand(cli), newPruneCommand(cli),
	)
}

// ipamConfig turns --subnet, --gateway and --ip-range into IPAM.Config.
func ipamConfig(subnets, gateways, ranges []string) ([]networktypes.IPAMConfig, error) {
	if len(gateways) > len(subnets) || len(ranges) > len(subnets) {
		return nil, errors.New("every --gateway and --ip-range needs a --subnet")
	}
	var out []networktypes.IPAMConfig
	for i, s := range subnets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("invalid subnet %s: %w", s, err)
		}
		c := networktypes.IPAMConfig{Subnet: p}
		if i < len(gateways) {
			if c.Gateway, err = netip.ParseAddr(gateways[i]); err != nil {
				return nil, fmt.Errorf("invalid gateway %s: %w", gateways[i], err)
			}
		}
		if i < len(ranges) {
			if c.IPRange, err = netip.ParsePrefix(ranges[i]); err != nil {
				return nil, fmt.Errorf("invalid ip-range %s: %w", ranges[i], err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func newCreateCommand(cli *command.Cli) *cobra.Command {
	var (
		driver                     string
		internal, attachable, ipv6 bool
		subnets, gateways, ranges  []string
		driverOpts, labels         []string
	)
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := ipamConfig(subnets, gateways, ranges)
			if err != nil {
				return err
			}
			o, err := opts.ParseKeyValueMap("--opt", driverOpts)
			if err != nil {
				return err
			}
			l, err := opts.ParseLabels(labels)
			if err != nil {
				return err
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			req := client.NetworkCreateOptions{Driver: driver, Internal: internal, Attachable: attachable, Options: o, Labels: l}
			if cmd.Flags().Changed("ipv6") {
				req.EnableIPv6 = &ipv6
			}
			if len(cfg) > 0 {
				req.IPAM = &networktypes.IPAM{Driver: "default", Config: cfg}
			}
			res, err := apiClient.NetworkCreate(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			_, _ = fmt.Fprintln(cli.Out, res.ID)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&driver, "driver", "d", "bridge", "Driver to manage the Network")
	flags.BoolVar(&internal, "internal", false, "Restrict external access to the network")
	flags.BoolVar(&attachable, "attachable", false, "Enable manual container attachment")
	flags.BoolVar(&ipv6, "ipv6", false, "Enable or disable IPv6 networking")
	flags.StringArrayVar(&subnets, "subnet", nil, "Subnet in CIDR format that represents a network segment")
	flags.StringArrayVar(&gateways, "gateway", nil, "IPv4 or IPv6 Gateway for the master subnet")
	flags.StringArrayVar(&ranges, "ip-range", nil, "Allocate container ip from a sub-range")
	flags.StringArrayVarP(&driverOpts, "opt", "o", nil, "Set driver specific options")
	flags.StringArrayVar(&labels, "label", nil, "Set metadata on a network")
	return cmd
}

// row is one network in `network ls`.
type row struct {
	N       networktypes.Summary
	noTrunc bool
}

func (r row) ID() string {
	if r.noTrunc {
		return r.N.ID
	}
	return format.TruncateID(r.N.ID)
}
func (r row) Name() string   { return r.N.Name }
func (r row) Driver() string { return r.N.Driver }
func (r row) Scope() string  { return r.N.Scope }
func (r row) IPv6() string   { return fmt.Sprint(r.N.EnableIPv6) }
func (r row) Internal() string {
	return fmt.Sprint(r.N.Internal)
}
func (r row) CreatedAt() string { return r.N.Created.String() }
func (r row) Labels() string {
	var out []string
	for k, v := range r.N.Labels {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

var header = map[string]string{"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
	"IPv6": "IPV6", "Internal": "INTERNAL", "CreatedAt": "CREATED AT", "Labels": "LABELS"}

func newListCommand(cli *command.Cli) *cobra.Command {
	var noTrunc bool
	cmd := command.ListCommand(cli, &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    command.NoArgs,
	}, command.List[row]{
		QuietUsage:  "Only display network IDs",
		FormatUsage: "Format output using a custom template",
		FilterUsage: "Provide filter values (e.g. \"driver=bridge\")",
		QuietFormat: "{{.ID}}",
		Table:       "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
		Header:      header,
		Rows: func(ctx context.Context, apiClient client.APIClient, _ []string, f client.Filters) ([]row, error) {
			res, err := apiClient.NetworkList(ctx, client.NetworkListOptions{Filters: f})
			if err != nil {
				return nil, err
			}
			sort.Slice(res.Items, func(i, j int) bool { return res.Items[i].Name < res.Items[j].Name })
			rows := make([]row, len(res.Items))
			for i, n := range res.Items {
				rows[i] = row{N: n, noTrunc: noTrunc}
			}
			return rows, nil
		},
	})
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "Do not truncate the output")
	return cmd
}

func newRemoveCommand(cli *command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks",
		Args:    command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return command.ForEach(cli, args, func(apiClient client.APIClient, name string) error {
				_, err := apiClient.NetworkRemove(cmd.Context(), name, client.NetworkRemoveOptions{})
				return err
			}, nil)
		},
	}
}

func newConnectCommand(cli *command.Cli) *cobra.Command {
	var (
		ip      string
		aliases []string
	)
	cmd := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network",
		Args:  command.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ep := &networktypes.EndpointSettings{Aliases: aliases}
			if ip != "" {
				a, err := netip.ParseAddr(ip)
				if err != nil {
					return fmt.Errorf("invalid IPv4 address: %s", ip)
				}
				ep.IPAMConfig = &networktypes.EndpointIPAMConfig{IPv4Address: a}
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			_, err = apiClient.NetworkConnect(cmd.Context(), args[0], client.NetworkConnectOptions{Container: args[1], EndpointConfig: ep})
			return err
		},
	}
	cmd.Flags().StringVar(&ip, "ip", "", "IPv4 address (e.g., 172.30.100.104)")
	cmd.Flags().StringArrayVar(&aliases, "alias", nil, "Add network-scoped alias for the container")
	return cmd
}

func newDisconnectCommand(cli *command.Cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  command.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			_, err = apiClient.NetworkDisconnect(cmd.Context(), args[0], client.NetworkDisconnectOptions{Container: args[1], Force: force})
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the container to disconnect from a network")
	return cmd
}

func newPruneCommand(cli *command.Cli) *cobra.Command {
	var (
		force   bool
		filters []string
	)
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all unused networks",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				return errors.New("WARNING! This will remove all custom networks not used by at least one container: confirm with --force (-f)")
			}
			f, err := opts.ParseFilters(filters)
			if err != nil {
				return err
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.NetworkPrune(cmd.Context(), client.NetworkPruneOptions{Filters: f})
			if err != nil {
				return err
			}
			if len(res.Report.NetworksDeleted) > 0 {
				_, _ = fmt.Fprintln(cli.Out, "Deleted Networks:")
				for _, n := range res.Report.NetworksDeleted {
					_, _ = fmt.Fprintln(cli.Out, n)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "Provide filter values (e.g. \"until=<timestamp>\")")
	return cmd
}
