package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/command/registry"
	"github.com/berth-project/berth/cli/format"
)

// NewImagesCommand returns `berth images`.
func NewImagesCommand(cli *command.Cli) *cobra.Command {
	var all, noTrunc bool
	cmd := command.ListCommand(cli, &cobra.Command{
		Use:   "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images",
		Args:  command.RequiresRangeArgs(0, 1),
	}, command.List[format.Image]{
		QuietUsage:  "Only show image IDs",
		FormatUsage: "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')",
		FilterUsage: "Filter output based on conditions provided",
		QuietFormat: "{{.ID}}",
		Table:       format.ImageTableFormat,
		Header:      format.ImageHeader,
		Rows: func(ctx context.Context, apiClient client.APIClient, args []string, f client.Filters) ([]format.Image, error) {
			if len(args) == 1 {
				f.Add("reference", args[0])
			}
			res, err := apiClient.ImageList(ctx, client.ImageListOptions{All: all, Filters: f})
			if err != nil {
				return nil, err
			}
			var rows []format.Image
			now := time.Now()
			for _, img := range res.Items {
				rows = append(rows, format.ImageRows(img, !noTrunc, now)...)
			}
			return rows, nil
		},
	})
	flags := cmd.Flags()
	flags.BoolVarP(&all, "all", "a", false, "Show all images (default hides intermediate images)")
	flags.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	return cmd
}

// NewLoadCommand returns `berth load`.
func NewLoadCommand(cli *command.Cli) *cobra.Command {
	var (
		input string
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load an image from a tar archive or STDIN",
		Args:  command.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = cli.In
			if input != "" {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			} else if _, isTerm := cli.InFd(); isTerm {
				return errors.New("requested load from stdin, but stdin is empty")
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			body, err := apiClient.ImageLoad(cmd.Context(), in, client.ImageLoadWithQuiet(quiet))
			if err != nil {
				return err
			}
			defer body.Close()
			return format.DisplayJSONStream(body, cli.Out)
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "Read from tar archive file, instead of STDIN")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress the load output")
	return cmd
}

// NewImportCommand returns `berth import`.
func NewImportCommand(cli *command.Cli) *cobra.Command {
	var (
		changes []string
		message string
	)
	cmd := &cobra.Command{
		Use:   "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
		Short: "Import the contents from a tarball to create a filesystem image",
		Args:  command.RequiresRangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := client.ImageImportSource{SourceName: args[0]}
			switch {
			case args[0] == "-":
				src.Source = cli.In
			case strings.Contains(args[0], "://"):
				// A URL: the daemon fetches it.
			default:
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				src = client.ImageImportSource{SourceName: "-", Source: f}
			}
			var ref string
			if len(args) == 2 {
				ref = args[1]
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			body, err := apiClient.ImageImport(cmd.Context(), src, ref, client.ImageImportOptions{Message: message, Changes: changes})
			if err != nil {
				return err
			}
			defer body.Close()
			return format.DisplayJSONStream(body, cli.Out)
		},
	}
	cmd.Flags().StringArrayVarP(&changes, "change", "c", nil, "Apply Dockerfile instruction to the created image")
	cmd.Flags().StringVarP(&message, "message", "m", "", "Set commit message for imported image")
	return cmd
}

// NewTagCommand returns `berth tag`.
func NewTagCommand(cli *command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:  command.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			_, err = apiClient.ImageTag(cmd.Context(), client.ImageTagOptions{Source: args[0], Target: args[1]})
			return err
		},
	}
}

// NewRmiCommand returns `berth rmi`.
func NewRmiCommand(cli *command.Cli) *cobra.Command {
	var (
		force   bool
		noPrune bool
	)
	cmd := &cobra.Command{
		Use:   "rmi [OPTIONS] IMAGE [IMAGE...]",
		Short: "Remove one or more images",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			var (
				msgs  []string
				fatal bool
			)
			for _, name := range args {
				res, err := apiClient.ImageRemove(cmd.Context(), name, client.ImageRemoveOptions{Force: force, PruneChildren: !noPrune})
				if err != nil {
					if !errdefs.IsNotFound(err) {
						fatal = true
					}
					msgs = append(msgs, command.ErrorText(err))
					continue
				}
				for _, item := range res.Items {
					if item.Deleted != "" {
						_, _ = fmt.Fprintln(cli.Out, "Deleted:", item.Deleted)
					} else {
						_, _ = fmt.Fprintln(cli.Out, "Untagged:", item.Untagged)
					}
				}
			}
			if len(msgs) == 0 {
				return nil
			}
			msg := strings.Join(msgs, "\n")
			// As Docker: with -f, missing images are reported but not fatal.
			if !force || fatal {
				return errors.New(msg)
			}
			_, _ = fmt.Fprintln(cli.Err, msg)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force removal of the image")
	cmd.Flags().BoolVar(&noPrune, "no-prune", false, "Do not delete untagged parents")
	return cmd
}

// NewPullCommand returns `berth pull`.
func NewPullCommand(cli *command.Cli) *cobra.Command {
	var (
		platform string
		quiet    bool
	)
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cli.Out
			if quiet {
				out = io.Discard
			}
			ref, err := PullImage(cmd.Context(), cli, args[0], platform, out)
			if err != nil {
				return err
			}
			_, _ = fmt.Fprintln(cli.Out, ref)
			return nil
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "Pull this platform of a multi-platform image (os/arch[/variant])")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	return cmd
}

// PullImage pulls ref with the stored credentials, showing the daemon's
// progress on out, and returns the full reference pulled.
func PullImage(ctx context.Context, cli *command.Cli, ref, platform string, out io.Writer) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	named = reference.TagNameOnly(named)
	auth, err := registry.EncodedAuth(ref)
	if err != nil {
		return "", err
	}
	opts := client.ImagePullOptions{RegistryAuth: auth}
	if platform != "" {
		p, err := parsePlatform(platform)
		if err != nil {
			return "", err
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	apiClient, err := cli.Client()
	if err != nil {
		return "", err
	}
	body, err := apiClient.ImagePull(ctx, named.String(), opts)
	if err != nil {
		return "", err
	}
	defer body.Close()
	if err := format.DisplayProgressStream(body, out, isTerminal(out)); err != nil {
		return "", err
	}
	return named.String(), nil
}

func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, fmt.Errorf("invalid platform %q: want os/arch[/variant]", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// NewPushCommand returns `berth push`.
func NewPushCommand(cli *command.Cli) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Args:  command.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			named, err := reference.ParseNormalizedNamed(args[0])
			if err != nil {
				return err
			}
			named = reference.TagNameOnly(named)
			auth, err := registry.EncodedAuth(args[0])
			if err != nil {
				return err
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			body, err := apiClient.ImagePush(cmd.Context(), named.String(), client.ImagePushOptions{RegistryAuth: auth})
			if err != nil {
				return err
			}
			defer body.Close()
			out := cli.Out
			if quiet {
				out = io.Discard
			}
			if err := format.DisplayProgressStream(body, out, isTerminal(out)); err != nil {
				return err
			}
			if quiet {
				_, _ = fmt.Fprintln(cli.Out, named.String())
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	return cmd
}

// isTerminal reports whether w is a terminal, where progress bars are
// drawn.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && command.IsTerminal(f.Fd())
}
