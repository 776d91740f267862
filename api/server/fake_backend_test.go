package server

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/api/types/backend"
	"github.com/berth-project/berth/api/types/berth"
)

// fakeBackend records the calls it gets and answers them with err when set,
// or with the hooks the test installed.
type fakeBackend struct {
	mu    sync.Mutex
	calls []string
	err   error

	createCfg *containertypes.Config
	createHC  *containertypes.HostConfig
	createNC  *network.NetworkingConfig
	listOpts  ListOptions
	logsOpts  LogsOptions
	attachOpt AttachOptions
	importArg struct {
		ref, message string
		changes      []string
		body         string
	}
	stopTimeout *int
	stopSignal  string

	waitFn   func(ctx context.Context, name string, cond containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error)
	logsFn   func(ctx context.Context, name string, opts LogsOptions) (<-chan LogMessage, bool, error)
	attachFn func(ctx context.Context, name string, opts AttachOptions) error
	loadFn   func(r io.Reader) ([]string, error)

	// archive, events, networks, tmpfs
	extracted  string
	extractArg string
	pastEvents []eventtypes.Message
	events     chan eventtypes.Message
	netReq     network.CreateRequest
	netList    []network.Summary
	prodFn     func() (*berth.Production, error)
	tmpfsFn    func() ([]berth.TmpfsUsage, error)

	// exec and processes
	createReq *containertypes.ExecCreateRequest
	startOpts backend.ExecStartOptions
	startFn   func(ctx context.Context, id string, opts backend.ExecStartOptions) error
	statsOpts backend.StatsOptions
	psArgs    string
}

func (f *fakeBackend) record(format string, a ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
	return f.err
}

func (f *fakeBackend) lastCall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeBackend) ContainerCreate(_ context.Context, name string, cfg *containertypes.Config, hc *containertypes.HostConfig, nc *network.NetworkingConfig) (containertypes.CreateResponse, error) {
	f.createCfg, f.createHC, f.createNC = cfg, hc, nc
	if err := f.record("ContainerCreate %s", name); err != nil {
		return containertypes.CreateResponse{}, err
	}
	return containertypes.CreateResponse{ID: "c0ffee"}, nil
}

func (f *fakeBackend) ContainerStart(_ context.Context, name string) error {
	return f.record("ContainerStart %s", name)
}

func (f *fakeBackend) ContainerStop(_ context.Context, name string, timeout *int, signal string) error {
	f.stopTimeout, f.stopSignal = timeout, signal
	return f.record("ContainerStop %s", name)
}

func (f *fakeBackend) ContainerKill(_ context.Context, name, signal string) error {
	return f.record("ContainerKill %s %s", name, signal)
}

func (f *fakeBackend) ContainerRestart(_ context.Context, name string, timeout *int) error {
	f.stopTimeout = timeout
	return f.record("ContainerRestart %s", name)
}

func (f *fakeBackend) ContainerRemove(_ context.Context, name string, force, removeVolumes bool) error {
	return f.record("ContainerRemove %s force=%t v=%t", name, force, removeVolumes)
}

func (f *fakeBackend) ContainerWait(ctx context.Context, name string, cond containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
	if err := f.record("ContainerWait %s %s", name, cond); err != nil {
		return nil, err
	}
	if f.waitFn != nil {
		return f.waitFn(ctx, name, cond)
	}
	ch := make(chan containertypes.WaitResponse, 1)
	ch <- containertypes.WaitResponse{StatusCode: 0}
	return ch, nil
}

func (f *fakeBackend) ContainerList(_ context.Context, opts ListOptions) ([]containertypes.Summary, error) {
	f.listOpts = opts
	if err := f.record("ContainerList"); err != nil {
		return nil, err
	}
	return []containertypes.Summary{{ID: "c0ffee", Names: []string{"/web"}, Image: "busybox", State: containertypes.StateRunning}}, nil
}

func (f *fakeBackend) ContainerInspect(_ context.Context, name string) (*containertypes.InspectResponse, error) {
	if err := f.record("ContainerInspect %s", name); err != nil {
		return nil, err
	}
	return &containertypes.InspectResponse{
		ID:         "c0ffee",
		Name:       "/" + name,
		State:      &containertypes.State{Status: containertypes.StateRunning, Running: true},
		Config:     &containertypes.Config{Image: "busybox"},
		HostConfig: &containertypes.HostConfig{LogConfig: containertypes.LogConfig{Type: "json-file"}},
	}, nil
}

func (f *fakeBackend) ContainerLogs(ctx context.Context, name string, opts LogsOptions) (<-chan LogMessage, bool, error) {
	f.logsOpts = opts
	if err := f.record("ContainerLogs %s", name); err != nil {
		return nil, false, err
	}
	if f.logsFn != nil {
		return f.logsFn(ctx, name, opts)
	}
	ch := make(chan LogMessage)
	close(ch)
	return ch, false, nil
}

func (f *fakeBackend) ContainerAttach(ctx context.Context, name string, opts AttachOptions) error {
	f.attachOpt = opts
	if err := f.record("ContainerAttach %s", name); err != nil {
		return err
	}
	if f.attachFn != nil {
		return f.attachFn(ctx, name, opts)
	}
	return nil
}

func (f *fakeBackend) ContainerResize(_ context.Context, name string, height, width uint) error {
	return f.record("ContainerResize %s %dx%d", name, height, width)
}

func (f *fakeBackend) ImageLoad(_ context.Context, r io.Reader) ([]string, error) {
	if err := f.record("ImageLoad"); err != nil {
		return nil, err
	}
	if f.loadFn != nil {
		return f.loadFn(r)
	}
	return []string{"docker.io/library/busybox:latest"}, nil
}

func (f *fakeBackend) ImageImport(_ context.Context, r io.Reader, ref, message string, changes []string) (string, error) {
	b, _ := io.ReadAll(r)
	f.importArg.ref, f.importArg.message, f.importArg.changes, f.importArg.body = ref, message, changes, string(b)
	if err := f.record("ImageImport %s", ref); err != nil {
		return "", err
	}
	return "sha256:" + strings.Repeat("ab", 32), nil
}

func (f *fakeBackend) ImageList(_ context.Context, all bool, filters Filters) ([]image.Summary, error) {
	if err := f.record("ImageList all=%t %v", all, filters); err != nil {
		return nil, err
	}
	return nil, nil
}

func (f *fakeBackend) ImageInspect(_ context.Context, name string) (*image.InspectResponse, error) {
	if err := f.record("ImageInspect %s", name); err != nil {
		return nil, err
	}
	return &image.InspectResponse{ID: "sha256:abc"}, nil
}

func (f *fakeBackend) ImageDelete(_ context.Context, name string, force, prune bool) ([]image.DeleteResponse, error) {
	if err := f.record("ImageDelete %s force=%t prune=%t", name, force, prune); err != nil {
		return nil, err
	}
	return []image.DeleteResponse{{Untagged: name}}, nil
}

func (f *fakeBackend) ImageTag(_ context.Context, source, ref string) error {
	return f.record("ImageTag %s %s", source, ref)
}

func (f *fakeBackend) ImagePull(_ context.Context, from, tag, platform, auth string, out func(jsonstream.Message) error) error {
	if err := f.record("ImagePull %s %s %s auth=%t", from, tag, platform, auth != ""); err != nil {
		return err
	}
	return out(jsonstream.Message{Status: "Status: Downloaded newer image for " + from})
}

func (f *fakeBackend) ImagePush(_ context.Context, name, tag, auth string, out func(jsonstream.Message) error) error {
	if err := f.record("ImagePush %s %s auth=%t", name, tag, auth != ""); err != nil {
		return err
	}
	return out(jsonstream.Message{Status: tag + ": digest: sha256:0 size: 1"})
}

func (f *fakeBackend) RegistryLogin(_ context.Context, ac registry.AuthConfig) error {
	return f.record("RegistryLogin %s %s", ac.ServerAddress, ac.Username)
}

func (f *fakeBackend) VolumeCreate(_ context.Context, req volume.CreateRequest) (*volume.Volume, error) {
	if err := f.record("VolumeCreate %s", req.Name); err != nil {
		return nil, err
	}
	return &volume.Volume{Name: req.Name, Driver: "local"}, nil
}

func (f *fakeBackend) VolumeList(_ context.Context, filters Filters) ([]*volume.Volume, error) {
	if err := f.record("VolumeList %v", filters); err != nil {
		return nil, err
	}
	return []*volume.Volume{{Name: "data", Driver: "local"}}, nil
}

func (f *fakeBackend) VolumeInspect(_ context.Context, name string) (*volume.Volume, error) {
	if err := f.record("VolumeInspect %s", name); err != nil {
		return nil, err
	}
	return &volume.Volume{Name: name, Driver: "local"}, nil
}

func (f *fakeBackend) VolumeRemove(_ context.Context, name string, force bool) error {
	return f.record("VolumeRemove %s force=%t", name, force)
}

func (f *fakeBackend) SystemInfo(context.Context) (*system.Info, error) {
	if err := f.record("SystemInfo"); err != nil {
		return nil, err
	}
	return &system.Info{Name: "berth-test", OSType: "linux"}, nil
}

func (f *fakeBackend) SystemVersion(context.Context) system.VersionResponse {
	_ = f.record("SystemVersion")
	return system.VersionResponse{Version: "0.1.0", Os: "linux", Arch: "amd64"}
}

func (f *fakeBackend) ContainerStatPath(ctx context.Context, name, p string) (*containertypes.PathStat, error) {
	if p == "/missing" {
		return nil, errdefs.ErrNotFound.WithMessage("Could not find the file /missing in container " + name)
	}
	return &containertypes.PathStat{Name: "f.txt", Size: 3, Mode: 0o644}, nil
}

func (f *fakeBackend) ContainerArchivePath(ctx context.Context, name, p string) (io.ReadCloser, *containertypes.PathStat, error) {
	st, err := f.ContainerStatPath(ctx, name, p)
	if err != nil {
		return nil, nil, err
	}
	return io.NopCloser(strings.NewReader("TAR")), st, nil
}

func (f *fakeBackend) ContainerExtractToDir(ctx context.Context, name, p string, copyUIDGID, noOverwrite bool, content io.Reader) error {
	data, _ := io.ReadAll(content)
	f.extracted = string(data)
	f.extractArg = name + " " + p
	if p == "/etc" {
		return errdefs.ErrInvalidArgument.WithMessage("container rootfs is marked read-only")
	}
	return nil
}

func (f *fakeBackend) Events(ctx context.Context, since, until time.Time, filters Filters) ([]eventtypes.Message, <-chan eventtypes.Message, func(), error) {
	if _, ok := filters["bogus"]; ok {
		return nil, nil, nil, errdefs.ErrInvalidArgument.WithMessage("invalid filter 'bogus'")
	}
	return f.pastEvents, f.events, func() {}, nil
}

func (f *fakeBackend) NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	f.netReq = req
	return network.CreateResponse{ID: "n1"}, nil
}

// NetworkList answers Docker's three predefined networks, or netList when
// the test set one.
func (f *fakeBackend) NetworkList(ctx context.Context, filters Filters) ([]network.Summary, error) {
	if f.netList != nil {
		return f.netList, nil
	}
	var list []network.Summary
	for _, n := range [][2]string{{"bridge", "bridge"}, {"host", "host"}, {"none", "null"}} {
		list = append(list, network.Summary{Network: network.Network{Name: n[0], Driver: n[1], Scope: "local"}})
	}
	return list, nil
}

func (f *fakeBackend) NetworkInspect(ctx context.Context, ref string) (*network.Inspect, error) {
	return nil, errdefs.ErrNotFound.WithMessage("network " + ref + " not found")
}

func (f *fakeBackend) NetworkRemove(ctx context.Context, ref string) error {
	return errdefs.ErrPermissionDenied.WithMessage(ref + " is a pre-defined network and cannot be removed")
}

func (f *fakeBackend) NetworkConnect(ctx context.Context, ref, c string, ep *network.EndpointSettings) error {
	return nil
}

func (f *fakeBackend) NetworkDisconnect(ctx context.Context, ref, c string, force bool) error {
	return nil
}

func (f *fakeBackend) NetworkPrune(ctx context.Context, filters Filters) ([]string, error) {
	return []string{}, nil
}

func (f *fakeBackend) ContainerExecCreate(_ context.Context, name string, req *containertypes.ExecCreateRequest) (string, error) {
	f.createReq = req
	return "exec1", f.record("exec create %s", name)
}

func (f *fakeBackend) ContainerSize(_ context.Context, name string) (int64, int64, error) {
	return 3, 5, f.record("size %s", name)
}

func (f *fakeBackend) ContainerExecStart(ctx context.Context, id string, opts backend.ExecStartOptions) error {
	f.startOpts = opts
	if err := f.record("exec start %s", id); err != nil {
		return err
	}
	if f.startFn != nil {
		return f.startFn(ctx, id, opts)
	}
	return nil
}

func (f *fakeBackend) ContainerExecInspect(_ context.Context, id string) (*containertypes.ExecInspectResponse, error) {
	code := 3
	return &containertypes.ExecInspectResponse{ID: id, ExitCode: &code, ContainerID: "c1"}, f.record("exec inspect %s", id)
}

func (f *fakeBackend) ContainerExecResize(_ context.Context, id string, h, w uint) error {
	return f.record("exec resize %s %dx%d", id, h, w)
}

func (f *fakeBackend) ContainerPause(_ context.Context, name string) error {
	return f.record("pause %s", name)
}

func (f *fakeBackend) ContainerUnpause(_ context.Context, name string) error {
	return f.record("unpause %s", name)
}

func (f *fakeBackend) ContainerTop(_ context.Context, name, psArgs string) (*containertypes.TopResponse, error) {
	f.psArgs = psArgs
	return &containertypes.TopResponse{Titles: []string{"PID", "CMD"}, Processes: [][]string{{"1", "sleep"}}}, f.record("top %s", name)
}

func (f *fakeBackend) ContainerStats(_ context.Context, name string, opts backend.StatsOptions, emit func(*containertypes.StatsResponse) error) error {
	f.statsOpts = opts
	if err := f.record("stats %s", name); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		if err := emit(&containertypes.StatsResponse{ID: name, NumProcs: uint32(i)}); err != nil || !opts.Stream {
			return err
		}
	}
	return nil
}

// ContainerTmpfsUsage answers tmpfsFn, or a conflict (as for a container
// that stopped) so that inspect bodies stay exactly Docker's.
func (f *fakeBackend) ContainerTmpfsUsage(_ context.Context, name string) ([]berth.TmpfsUsage, error) {
	if f.tmpfsFn != nil {
		return f.tmpfsFn()
	}
	return nil, errdefs.ErrConflict.WithMessage("container " + name + " is not running")
}

// ContainerProduction answers prodFn, or nothing applied.
func (f *fakeBackend) ContainerProduction(_ context.Context, name string) (*berth.Production, error) {
	if f.prodFn != nil {
		return f.prodFn()
	}
	return nil, nil
}

func (f *fakeBackend) ContainerWrites(_ context.Context, name string) (*berth.Writes, error) {
	return &berth.Writes{Changes: []berth.Write{}, Volumes: []berth.VolumeUsage{}}, f.record("writes %s", name)
}

func (f *fakeBackend) ContainerRename(ctx context.Context, oldName, newName string) error {
	f.record("rename %s", oldName+" "+newName)
	return f.err
}

func (f *fakeBackend) ContainerChanges(ctx context.Context, name string) ([]containertypes.FilesystemChange, error) {
	f.record("changes %s", name)
	return nil, f.err
}

func (f *fakeBackend) ContainerExport(ctx context.Context, name string) (io.ReadCloser, error) {
	f.record("export %s", name)
	if f.err != nil {
		return nil, f.err
	}
	return io.NopCloser(strings.NewReader("")), nil
}

func (f *fakeBackend) ContainerCommit(ctx context.Context, name string, opts backend.CommitOptions) (string, error) {
	f.record("commit %s", name)
	return "sha256:0", f.err
}

func (f *fakeBackend) ContainersPrune(ctx context.Context, filters Filters) (*containertypes.PruneReport, error) {
	f.record("containers prune")
	return &containertypes.PruneReport{}, f.err
}

func (f *fakeBackend) ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error) {
	f.record("history %s", name)
	return nil, f.err
}

func (f *fakeBackend) ImageSave(ctx context.Context, names []string, w io.Writer) error {
	f.record("save %s", strings.Join(names, " "))
	return f.err
}

func (f *fakeBackend) ImagesPrune(ctx context.Context, filters Filters) (*image.PruneReport, error) {
	f.record("images prune")
	return &image.PruneReport{}, f.err
}

func (f *fakeBackend) VolumesPrune(ctx context.Context, filters Filters) (*volume.PruneReport, error) {
	f.record("volumes prune")
	return &volume.PruneReport{}, f.err
}

func (f *fakeBackend) SystemDiskUsage(ctx context.Context) (*backend.DiskUsage, error) {
	f.record("df")
	return &backend.DiskUsage{}, f.err
}

func (f *fakeBackend) ContainerUpdate(_ context.Context, name string, _ *containertypes.UpdateConfig) (containertypes.UpdateResponse, error) {
	return containertypes.UpdateResponse{Warnings: []string{}}, f.record("update %s", name)
}
