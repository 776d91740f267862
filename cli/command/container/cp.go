package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

type cpOptions struct {
	followLink bool
	copyUIDGID bool
	quiet      bool
}

// NewCpCommand returns `berth cp`: copies files between a container and
// the local filesystem, in either direction. For a running container the
// daemon reads and writes the container's live mounts, tmpfs included.
func NewCpCommand(cli *command.Cli) *cobra.Command {
	var o cpOptions
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\t" + command.ProgramName + " cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Long: "Copy files/folders between a container and the local filesystem\n\n" +
			"Use '-' as the source to read a tar archive from stdin\n" +
			"and extract it to a directory destination in a container.\n" +
			"Use '-' as the destination to stream a tar archive of a\n" +
			"container source to stdout.",
		Args: command.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCp(cmd.Context(), cli, o, args[0], args[1])
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.followLink, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	flags.BoolVarP(&o.copyUIDGID, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress progress output during copy")
	return cmd
}

// splitCpArg splits CONTAINER:PATH; a path that starts with "/" or "." is
// always local, so local names with a colon can be given as ./a:b.
func splitCpArg(arg string) (container, p string) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	c, p, ok := strings.Cut(arg, ":")
	if !ok {
		return "", arg
	}
	return c, p
}

func runCp(ctx context.Context, cli *command.Cli, o cpOptions, src, dst string) error {
	srcContainer, srcPath := splitCpArg(src)
	dstContainer, dstPath := splitCpArg(dst)
	switch {
	case srcContainer == "" && dstContainer == "":
		return errors.New("must specify at least one container source")
	case srcContainer != "" && dstContainer != "":
		return errors.New("copying between containers is not supported")
	case srcPath == "" || dstPath == "":
		return errors.New("filepath cannot be empty")
	}
	apiClient, err := cli.Client()
	if err != nil {
		return err
	}
	if srcContainer != "" {
		return copyFromContainer(ctx, cli, apiClient, o, srcContainer, srcPath, dstPath)
	}
	return copyToContainer(ctx, cli, apiClient, o, srcPath, dstContainer, dstPath)
}

func copyFromContainer(ctx context.Context, cli *command.Cli, apiClient client.APIClient, o cpOptions, container, srcPath, dstPath string) error {
	if dstPath != "-" {
		// Fail before copying when the local destination cannot work.
		if _, err := archive.CopyInfoDestinationPath(dstPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	rebaseName := ""
	if o.followLink {
		res, err := apiClient.ContainerStatPath(ctx, container, client.ContainerStatPathOptions{Path: srcPath})
		if err == nil && res.Stat.LinkTarget != "" {
			rebaseName = path.Base(srcPath)
			srcPath = res.Stat.LinkTarget
		}
	}
	res, err := apiClient.CopyFromContainer(ctx, container, client.CopyFromContainerOptions{SourcePath: srcPath})
	if err != nil {
		return err
	}
	defer res.Content.Close()
	if dstPath == "-" {
		_, err := io.Copy(cli.Out, res.Content)
		return err
	}
	srcInfo := archive.CopyInfo{Path: srcPath, Exists: true, IsDir: res.Stat.Mode.IsDir(), RebaseName: rebaseName}
	var content io.Reader = res.Content
	if rebaseName != "" {
		_, base := archive.SplitPathDirEntry(srcPath)
		rebased := archive.RebaseArchiveEntries(res.Content, base, rebaseName)
		defer rebased.Close()
		content = rebased
	}
	return archive.CopyTo(content, srcInfo, dstPath)
}

func copyToContainer(ctx context.Context, cli *command.Cli, apiClient client.APIClient, o cpOptions, srcPath, container, dstPath string) error {
	// The destination decides how the source is named in the archive: it
	// may be an existing directory, an existing file, or a new name.
	dstInfo := archive.CopyInfo{Path: dstPath}
	res, err := apiClient.ContainerStatPath(ctx, container, client.ContainerStatPathOptions{Path: dstPath})
	if err == nil && res.Stat.LinkTarget != "" && !strings.HasSuffix(dstPath, "/") {
		dstInfo.Path = res.Stat.LinkTarget
		res, err = apiClient.ContainerStatPath(ctx, container, client.ContainerStatPathOptions{Path: dstInfo.Path})
	}
	switch {
	case err == nil:
		dstInfo.Exists, dstInfo.IsDir = true, res.Stat.Mode.IsDir()
	case !errdefs.IsNotFound(err):
		return err
	}

	var (
		content io.Reader
		dstDir  string
	)
	if srcPath == "-" {
		if !dstInfo.IsDir {
			return fmt.Errorf("destination \"%s:%s\" must be a directory", container, dstPath)
		}
		content, dstDir = cli.In, dstInfo.Path
	} else {
		srcInfo, err := archive.CopyInfoSourcePath(srcPath, o.followLink)
		if err != nil {
			return err
		}
		srcArchive, err := archive.TarResource(srcInfo)
		if err != nil {
			return err
		}
		defer srcArchive.Close()
		dir, prepared, err := archive.PrepareArchiveCopy(srcArchive, srcInfo, dstInfo)
		if err != nil {
			return err
		}
		defer prepared.Close()
		content, dstDir = prepared, dir
	}
	_, err = apiClient.CopyToContainer(ctx, container, client.CopyToContainerOptions{
		DestinationPath: dstDir,
		Content:         content,
		CopyUIDGID:      o.copyUIDGID,
	})
	return err
}
