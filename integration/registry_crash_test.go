package integration

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/berth-project/berth/integration/internal/harness"
)

// stallProxy forwards TCP connections to a registry and, once it has
// passed limit bytes towards the client, holds every further byte until
// released: a pull that is stuck in the middle of a layer, without timing.
type stallProxy struct {
	Addr     string
	limit    int64
	sent     atomic.Int64
	stalled  chan struct{}
	release  chan struct{}
	onceStal sync.Once
	onceRel  sync.Once
}

func startStallProxy(t *testing.T, upstream string, limit int64) *stallProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	p := &stallProxy{Addr: l.Addr().String(), limit: limit, stalled: make(chan struct{}), release: make(chan struct{})}
	var conns sync.WaitGroup
	t.Cleanup(func() {
		p.Release()
		l.Close()
		conns.Wait()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer c.Close()
				u, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
				buf := make([]byte, 16<<10)
				for {
					n, err := u.Read(buf)
					if n > 0 {
						if p.sent.Add(int64(n)) > p.limit {
							p.onceStal.Do(func() { close(p.stalled) })
							<-p.release
						}
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

// Release lets the held bytes through and stops holding.
func (p *stallProxy) Release() { p.onceRel.Do(func() { close(p.release) }) }

// TestRegistryKillDuringPull kills berthd (SIGKILL) while a layer is being
// downloaded: the restarted daemon has no image, no layer and no scratch
// files, and the next pull completes.
func TestRegistryKillDuringPull(t *testing.T) {
	r := startRegistry(t, "", "")
	r.Push(t, "docker-archive:"+harness.TestImage(t), "test/busybox:v1")
	m := r.Manifest(t, "test/busybox:v1")
	assert.Assert(t, m.Layers[0].Size > 512<<10, "the layer is too small to stall in")
	proxy := startStallProxy(t, r.Addr, 256<<10)
	ref := proxy.Addr + "/test/busybox:v1"

	d := harness.New(t)
	pull := exec.Command(filepath.Join(harness.Binaries(t), "berth"), "-H", d.Host(), "pull", ref)
	pull.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
	assert.NilError(t, pull.Start())
	pullDone := make(chan struct{})
	go func() { _ = pull.Wait(); close(pullDone) }()
	t.Cleanup(func() { _ = pull.Process.Kill(); <-pullDone })

	<-proxy.stalled
	// The layer is being unpacked into scratch space under the data root.
	scratch, err := filepath.Glob(filepath.Join(d.DataRoot, "image", "tmp", "pull-*"))
	assert.NilError(t, err)
	assert.Check(t, is.Len(scratch, 1))
	d.Kill(t)
	<-pullDone

	d.Start(t)
	assert.Equal(t, d.OK(t, "images", "-q"), "")
	assert.Check(t, is.Len(imageLayerDirs(t, d), 0))
	tmp, err := os.ReadDir(filepath.Join(d.DataRoot, "image", "tmp"))
	assert.NilError(t, err)
	assert.Check(t, is.Len(tmp, 0))

	proxy.Release()
	res := berthWith(t, d, t.TempDir(), "", "pull", ref)
	assert.Equal(t, res.ExitCode, 0, res.Combined())
	assert.Check(t, strings.Contains(res.Stdout, "Pull complete"), res.Stdout)
	assert.Equal(t, d.OK(t, "run", "--rm", ref, "echo", "complete"), "complete")
}
