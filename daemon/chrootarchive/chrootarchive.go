// Package chrootarchive reads and writes a container's files for docker cp
// in a helper process (berthd re-executed) whose root directory is the
// container's root.
//
// A running container's processes are hostile: one that swaps a directory
// for a symlink while the daemon walks a path under /proc/<pid>/root wins
// the race sooner or later, and the daemon reads or writes the host
// (CVE-2018-15664). Chrooted, every lookup of the helper, including those
// go-archive makes by path, is resolved by the kernel inside the
// container's root: a symlink to "/" or to "../.." leads to the
// container's root, never out of it.
//
// The helper is given the root as an open directory (fd 3), so it never
// resolves a path of the container before it is chrooted. It enters no
// namespace other than the mount namespace it was started in (a running
// container's mounts are reached through its root directory), stays
// invisible to the container's processes (their pid namespace does not hold
// it), executes nothing and reads no configuration from the container.
// Compressed input is decompressed by the daemon, before the helper sees it.
package chrootarchive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
)

// Command is the berthd subcommand that runs the helper: `berthd
// chroot-archive REQUEST-JSON`. cmd/berthd hands it to Main.
const Command = "chroot-archive"

// op names what the helper does.
type op string

const (
	opStat  op = "stat"
	opTar   op = "tar"
	opUntar op = "untar"
	opTree  op = "tree"
)

// request is the helper's only input besides its root and stdin.
type request struct {
	Op   op
	Path string // the container's path, as the client gave it
	// Layer, for a tree archive, makes it a layer of overlay whiteouts.
	Layer bool `json:",omitempty"`
	UntarOptions
}

// IDs is an owner for every extracted file (copyUIDGID).
type IDs struct{ UID, GID int }

// Place is a part of the container's tree as seen for writing: a file
// extracted at a path is judged by the place with the longest Dir that
// holds the path. A non-empty Refusal refuses the extraction with that
// message (a read-only rootfs, volume or tmpfs).
type Place struct {
	Dir     string
	Refusal string `json:",omitempty"`
}

// reply is the first line the helper writes on its stdout; for a tar
// operation, the archive follows it.
type reply struct {
	Stat  *containertypes.PathStat `json:",omitempty"`
	Class string                   `json:",omitempty"` // "notfound", "invalid" or "" for any other error
	Error string                   `json:",omitempty"`
}

const (
	classNotFound = "notfound"
	classInvalid  = "invalid"
)

// Stat describes the file at p in the container whose root directory is
// root; self is the berthd binary.
func Stat(ctx context.Context, self string, root *os.File, p string) (*containertypes.PathStat, error) {
	h, err := start(ctx, self, root, request{Op: opStat, Path: p}, nil)
	if err != nil {
		return nil, err
	}
	return h.stat, h.wait()
}

// Archive is a tar stream of a container's file being produced by the
// helper.
type Archive struct {
	Stat *containertypes.PathStat
	io.Reader
	h *helper
}

// Wait waits for the helper to end (it ends when the archive is read
// through, or when the reader is abandoned by Close) and reports its error.
func (a *Archive) Wait() error { return a.h.wait() }

// Close abandons the rest of the archive: the helper ends.
func (a *Archive) Close() error {
	a.h.cancel()
	return nil
}

// Tar starts archiving the file or directory at p in the container. The
// caller reads the archive, then calls Wait (or Close and Wait).
// An archive of the whole root holds neither /proc, /sys nor /dev, and
// names its entries from the root, as Docker does ("/etc/passwd").
func Tar(ctx context.Context, self string, root *os.File, p string) (*Archive, error) {
	h, err := start(ctx, self, root, request{Op: opTar, Path: p}, nil)
	if err != nil {
		return nil, err
	}
	return &Archive{Stat: h.stat, Reader: h.out, h: h}, nil
}

// Tree starts archiving the whole root with relative names ("etc/passwd"),
// as docker export does: /proc, /sys and /dev are archived empty. With
// layer, root is a writable overlay layer (an upper directory): its
// whiteouts become AUFS ".wh." entries, as image layers hold them, and
// nothing is left out.
func Tree(ctx context.Context, self string, root *os.File, layer bool) (*Archive, error) {
	h, err := start(ctx, self, root, request{Op: opTree, Path: "/", Layer: layer}, nil)
	if err != nil {
		return nil, err
	}
	return &Archive{Stat: h.stat, Reader: h.out, h: h}, nil
}

// UntarOptions are the options of an extraction.
type UntarOptions struct {
	NoOverwriteDirNonDir bool    `json:",omitempty"`
	Chown                *IDs    `json:",omitempty"`
	Places               []Place `json:",omitempty"`
}

// Untar extracts the uncompressed tar stream content into the directory at
// p in the container.
func Untar(ctx context.Context, self string, root *os.File, p string, opts UntarOptions, content io.Reader) error {
	h, err := start(ctx, self, root, request{Op: opUntar, Path: p, UntarOptions: opts}, content)
	if err != nil {
		return err
	}
	return h.wait()
}

// helper is a running helper process.
type helper struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	out    *bufio.Reader
	stderr *bytes.Buffer
	stat   *containertypes.PathStat
	done   bool
	err    error
}

// start runs the helper and reads its reply line. For stat and tar the
// reply comes first; for untar, once the extraction is over.
func start(ctx context.Context, self string, root *os.File, req request, stdin io.Reader) (*helper, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, self, Command, string(data))
	cmd.ExtraFiles = []*os.File{root}
	cmd.Env = []string{} // nothing of the daemon's environment
	cmd.Dir = "/"
	cmd.Stdin = stdin
	stderr := &bytes.Buffer{}
	cmd.Stderr = &limitedWriter{w: stderr, n: 64 << 10}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start the archive helper: %w", err)
	}
	h := &helper{cmd: cmd, cancel: cancel, out: bufio.NewReaderSize(pipe, 64<<10), stderr: stderr}
	line, err := h.out.ReadBytes('\n')
	if err != nil {
		// No reply: the helper died; its exit status and stderr say why.
		h.drainAndWait()
		return nil, h.err
	}
	var rep reply
	if err := json.Unmarshal(line, &rep); err != nil {
		h.drainAndWait()
		return nil, fmt.Errorf("archive helper: bad reply %q: %w", line, err)
	}
	if rep.Error != "" || rep.Class != "" {
		h.drainAndWait()
		return nil, rep.err()
	}
	h.stat = rep.Stat
	return h, nil
}

func (h *helper) drainAndWait() {
	_, _ = io.Copy(io.Discard, h.out)
	_ = h.wait()
}

// wait waits for the helper's end. A helper that wrote a reply but failed
// afterwards (an archive cut short) reports it on stderr.
func (h *helper) wait() error {
	if h.done {
		return h.err
	}
	h.done = true
	// Whatever the caller did not read is abandoned.
	_, _ = io.Copy(io.Discard, h.out)
	err := h.cmd.Wait()
	h.cancel()
	if err != nil {
		msg := strings.TrimSpace(h.stderr.String())
		var rep reply
		if json.Unmarshal([]byte(msg), &rep) == nil && (rep.Error != "" || rep.Class != "") {
			h.err = rep.err()
		} else {
			h.err = fmt.Errorf("archive helper: %w: %s", err, msg)
		}
	}
	return h.err
}

func (r reply) err() error {
	switch r.Class {
	case classNotFound:
		return fmt.Errorf("%s: %w", r.Error, fs.ErrNotExist)
	case classInvalid:
		return errdefs.ErrInvalidArgument.WithMessage(r.Error)
	}
	return errors.New(r.Error)
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		q := p
		if len(q) > l.n {
			q = q[:l.n]
		}
		l.n -= len(q)
		_, _ = l.w.Write(q)
	}
	return len(p), nil
}
