package chrootarchive

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/go-archive"
	containertypes "github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// rootFD is the helper's descriptor of the container's root.
const rootFD = 3

// Main is the helper's entry point; args are those after the subcommand.
// Its reply goes to stdout, first thing (for untar, once done); an error
// after a reply goes to stderr, as a reply, with a non-zero exit status.
func Main(args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "usage: berthd %s REQUEST\n", Command)
		return 2
	}
	var req request
	if err := json.Unmarshal([]byte(args[0]), &req); err != nil {
		return fail(os.Stdout, reply{Error: fmt.Sprintf("archive helper: bad request: %v", err)})
	}
	if err := enterRoot(); err != nil {
		return fail(os.Stdout, reply{Error: err.Error()})
	}
	switch req.Op {
	case opStat:
		st, rep := stat(req.Path)
		if rep != nil {
			return fail(os.Stdout, *rep)
		}
		return fail(os.Stdout, reply{Stat: st})
	case opTar:
		return tarOp(req.Path, os.Stdout)
	case opUntar:
		return fail(os.Stdout, untar(req, os.Stdin))
	case opTree:
		return treeOp(req.Layer, os.Stdout)
	}
	return fail(os.Stdout, reply{Error: fmt.Sprintf("archive helper: unknown operation %q", req.Op)})
}

// enterRoot makes the directory on rootFD the process's root and working
// directory. Go's threads share one root (CLONE_FS), so chroot applies to
// all of them.
func enterRoot() error {
	// Not dumpable: nothing but the host's root can trace or read it.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("archive helper: %w", err)
	}
	if err := unix.Fchdir(rootFD); err != nil {
		return fmt.Errorf("archive helper: enter the container's root: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("archive helper: chroot to the container's root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("archive helper: chdir /: %w", err)
	}
	_ = unix.Close(rootFD)
	return nil
}

// fail writes rep as the reply line and returns the exit status: 0 when
// rep holds no error.
func fail(w io.Writer, rep reply) int {
	data, err := json.Marshal(rep)
	if err != nil {
		data, _ = json.Marshal(reply{Error: err.Error()})
	}
	_, _ = w.Write(append(data, '\n'))
	if rep.Error != "" || rep.Class != "" {
		return 1
	}
	return 0
}

// resolve resolves p in the root, following symlinks in every element but
// the last, as Docker does for reading.
func resolve(p string) (resolved, abs string, err error) {
	abs = archive.PreserveTrailingDotOrSeparator(filepath.Join("/", p), p)
	dir, base := filepath.Split(abs)
	rdir, err := securejoin.SecureJoin("/", dir)
	if err != nil {
		return "", "", err
	}
	return rdir + string(filepath.Separator) + base, abs, nil
}

func stat(p string) (*containertypes.PathStat, *reply) {
	resolved, abs, err := resolve(p)
	if err != nil {
		return nil, errReply(err)
	}
	fi, err := os.Lstat(resolved)
	if err != nil {
		return nil, errReply(err)
	}
	var target string
	if fi.Mode()&os.ModeSymlink != 0 {
		full, err := securejoin.SecureJoin("/", abs)
		if err != nil {
			return nil, errReply(err)
		}
		target = path.Clean("/" + full)
	}
	return &containertypes.PathStat{
		Name:       filepath.Base(abs),
		Size:       fi.Size(),
		Mode:       fi.Mode(),
		Mtime:      fi.ModTime(),
		LinkTarget: target,
	}, nil
}

// kernelDirs are not archived with a whole root: the image does not hold
// their content, and their files lie about their size.
var kernelDirs = []string{"proc/*", "sys/*", "dev/*"}

func tarOp(p string, out io.Writer) int {
	st, rep := stat(p)
	if rep != nil {
		return fail(out, *rep)
	}
	resolved, abs, _ := resolve(p)
	dir, base := archive.SplitPathDirEntry(resolved)
	opts := archive.TarResourceRebaseOpts(base, filepath.Base(abs))
	wholeRoot := filepath.Clean(resolved) == "/"
	if wholeRoot {
		dir, opts = "/", &archive.TarOptions{ExcludePatterns: kernelDirs}
	}
	rc, err := archive.TarWithOptions(dir, opts)
	if err != nil {
		return fail(out, *errReply(err))
	}
	defer rc.Close()
	if wholeRoot {
		rc = absoluteEntries(rc)
	}
	if code := fail(out, reply{Stat: st}); code != 0 {
		return code
	}
	if _, err := io.Copy(out, rc); err != nil {
		return fail(os.Stderr, reply{Error: fmt.Sprintf("archive %s: %v", p, err)})
	}
	return 0
}

// treeOp archives the whole root with relative names (see Tree).
func treeOp(layer bool, out io.Writer) int {
	opts := &archive.TarOptions{ExcludePatterns: kernelDirs}
	if layer {
		opts = &archive.TarOptions{WhiteoutFormat: archive.OverlayWhiteoutFormat}
	}
	rc, err := archive.TarWithOptions("/", opts)
	if err != nil {
		return fail(out, *errReply(err))
	}
	defer rc.Close()
	if code := fail(out, reply{}); code != 0 {
		return code
	}
	if _, err := io.Copy(out, rc); err != nil {
		return fail(os.Stderr, reply{Error: fmt.Sprintf("archive: %v", err)})
	}
	return 0
}

func untar(req request, content io.Reader) reply {
	resolved, err := securejoin.SecureJoin("/", path.Join("/", req.Path))
	if err != nil {
		return *errReply(err)
	}
	fi, err := os.Lstat(resolved)
	if err != nil {
		return *errReply(err)
	}
	if !fi.IsDir() {
		return reply{Class: classInvalid, Error: "extraction point is not a directory"}
	}
	if msg := Refusal(req.Places, resolved); msg != "" {
		return reply{Class: classInvalid, Error: msg}
	}
	opts := &archive.TarOptions{NoOverwriteDirNonDir: req.NoOverwriteDirNonDir}
	if req.Chown != nil {
		opts.ChownOpts = &archive.ChownOpts{UID: req.Chown.UID, GID: req.Chown.GID}
	}
	if err := archive.UntarUncompressed(content, resolved, opts); err != nil {
		return untarError(err)
	}
	return reply{}
}

// Refusal returns the message refusing an extraction at p (clean,
// absolute), or "" when the place holding p takes files.
func Refusal(places []Place, p string) string {
	var holder *Place
	for i := range places {
		pl := &places[i]
		if pl.Dir == "/" || p == pl.Dir || strings.HasPrefix(p, pl.Dir+"/") {
			if holder == nil || len(pl.Dir) > len(holder.Dir) {
				holder = pl
			}
		}
	}
	if holder == nil {
		return ""
	}
	return holder.Refusal
}

func errReply(err error) *reply {
	if errors.Is(err, fs.ErrNotExist) {
		return &reply{Class: classNotFound, Error: err.Error()}
	}
	return &reply{Error: err.Error()}
}

// untarError classifies an extraction error: what is wrong with the
// archive is the client's fault. The extraction point exists, so a
// missing file is one the archive refers to.
func untarError(err error) reply {
	var le *os.LinkError
	switch {
	case errors.Is(err, tar.ErrHeader), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, tar.ErrInsecurePath):
		return reply{Class: classInvalid, Error: fmt.Sprintf("the content is not a valid tar archive: %v", err)}
	case errors.As(err, &le) && errors.Is(err, fs.ErrNotExist):
		return reply{Class: classInvalid, Error: fmt.Sprintf("invalid archive: the target %q of hardlink %q is missing", le.Old, le.New)}
	case errors.Is(err, fs.ErrNotExist):
		return reply{Class: classInvalid, Error: fmt.Sprintf("invalid archive: %v", err)}
	case errors.Is(err, unix.EROFS):
		return reply{Class: classInvalid, Error: fmt.Sprintf("cannot write into a read-only file system: %v", err)}
	case isBreakout(err):
		return reply{Class: classInvalid, Error: fmt.Sprintf("invalid archive: an entry leads out of the extraction directory: %v", err)}
	}
	return reply{Error: err.Error()}
}

// isBreakout reports whether err is go-archive's refusal of an entry that
// leads out of the extraction directory, or os.Root's. Neither error is
// exported (https://go.dev/issue/74640), so their types and texts are
// recognised here, the one place that needs them.
func isBreakout(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if fmt.Sprintf("%T", e) == "*archive.breakoutErr" || e.Error() == "path escapes from parent" {
			return true
		}
	}
	return false
}

// absoluteEntries names the entries of an archive of a whole root as
// Docker does ("/etc/passwd"), which its clients rebase onto the
// destination.
func absoluteEntries(src io.ReadCloser) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		defer src.Close()
		tr := tar.NewReader(src)
		tw := tar.NewWriter(pw)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				pw.CloseWithError(tw.Close())
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			h.Name = "/" + h.Name
			// Long names need PAX records, whatever the reader saw.
			h.Format = tar.FormatPAX
			if h.Typeflag == tar.TypeLink {
				h.Linkname = "/" + h.Linkname
			}
			if err := tw.WriteHeader(h); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(tw, tr); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}
