package images

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// remoteOf describes a test image as a registry would serve it; opens
// counts the blob fetches.
func remoteOf(t *testing.T, img *testImage, ref string, opens *atomic.Int32) RemoteImage {
	t.Helper()
	cfg := img.configJSON(t)
	ri := RemoteImage{ConfigDigest: digest.FromBytes(cfg), Config: cfg, Ref: ref}
	for _, l := range img.layers {
		ri.Layers = append(ri.Layers, RemoteLayer{
			Digest: digest.FromBytes(l), Size: int64(len(l)),
			Open: func(context.Context) (io.ReadCloser, error) {
				if opens != nil {
					opens.Add(1)
				}
				return io.NopCloser(bytes.NewReader(l)), nil
			},
		})
	}
	return ri
}

func layerDirs(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "layers"))
	assert.NilError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestAddRemote(t *testing.T) {
	t.Parallel()
	s, root := newStore(t)
	base := makeTar(t, file("a", "base"))
	img := newTestImage(t, nil, true, base, makeTar(t, file("b", "top")))
	ri := remoteOf(t, img, "reg.example/x:v1", nil)
	ri.RepoDigest = "reg.example/x@sha256:" + digest.FromString("m").Encoded()
	var events []string
	got, fresh, err := s.AddRemote(context.Background(), ri, func(e LayerEvent) { events = append(events, e.Status) })
	assert.NilError(t, err)
	assert.Check(t, fresh)
	assert.Check(t, is.Equal(got.ID, img.id(t)))
	assert.Check(t, is.Contains(events, "Pull complete"))
	assert.Check(t, is.DeepEqual(s.Inspect(got).RepoDigests, []string{ri.RepoDigest}))
	byDigest, err := s.Get(ri.RepoDigest)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(byDigest.ID, got.ID))
	assert.Check(t, is.Len(layerDirs(t, root), 2))

	// Again: nothing fetched, not fresh.
	var opens atomic.Int32
	_, fresh, err = s.AddRemote(context.Background(), remoteOf(t, img, "reg.example/x:v1", &opens), nil)
	assert.NilError(t, err)
	assert.Check(t, !fresh)
	assert.Check(t, is.Equal(opens.Load(), int32(0)))

	// The repo digest survives a reopen.
	s2, err := New(root)
	assert.NilError(t, err)
	_, err = s2.Get(ri.RepoDigest)
	assert.NilError(t, err)
}

func TestAddRemoteTampered(t *testing.T) {
	t.Parallel()
	s, root := newStore(t)
	good := makeTar(t, file("a", "base"))
	img := newTestImage(t, nil, true, good, makeTar(t, file("b", "top")))
	ri := remoteOf(t, img, "reg.example/x:v1", nil)
	// The second layer's blob is served with other content.
	bad := gzipBytes(t, makeTar(t, file("b", "evil")))
	want := ri.Layers[1].Digest
	ri.Layers[1].Open = func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(bad)), nil }
	_, _, err := s.AddRemote(context.Background(), ri, nil)
	assert.Check(t, is.ErrorContains(err, want.String()))
	assert.Check(t, errdefs.IsInvalidArgument(err), "%v", err)
	assert.Check(t, is.Len(s.List(), 0))
	assert.Check(t, is.Len(layerDirs(t, root), 0), "the first layer, committed, is removed again")
	tmp, err := os.ReadDir(filepath.Join(root, "tmp"))
	assert.NilError(t, err)
	assert.Check(t, is.Len(tmp, 0))

	// A config that does not match its digest.
	ri = remoteOf(t, img, "", nil)
	ri.Config = append([]byte(" "), ri.Config...)
	_, _, err = s.AddRemote(context.Background(), ri, nil)
	assert.Check(t, is.ErrorContains(err, "config blob "+ri.ConfigDigest.String()+" failed verification"))
}

// Two pulls of images sharing their base layer, at once, fetch it once:
// the second waits for the first's fetch.
func TestAddRemoteConcurrentShared(t *testing.T) {
	t.Parallel()
	s, root := newStore(t)
	base := makeTar(t, file("a", "base"))
	imgs := []*testImage{
		newTestImage(t, nil, true, base, makeTar(t, file("b", "one"))),
		newTestImage(t, nil, true, base, makeTar(t, file("b", "two"))),
	}
	var baseOpens atomic.Int32
	opened, gate, waiting := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var onceOpened, onceWaiting sync.Once
	var wg sync.WaitGroup
	errs := make([]error, len(imgs))
	for i, img := range imgs {
		ri := remoteOf(t, img, "", nil)
		open := ri.Layers[0].Open
		ri.Layers[0].Open = func(ctx context.Context) (io.ReadCloser, error) {
			baseOpens.Add(1)
			onceOpened.Do(func() { close(opened) })
			<-gate
			return open(ctx)
		}
		progress := func(e LayerEvent) {
			if e.Status == "Waiting" {
				onceWaiting.Do(func() { close(waiting) })
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.AddRemote(context.Background(), ri, progress)
		}()
		if i == 0 {
			<-opened // the first pull is fetching the base layer
		}
	}
	<-waiting // the second pull waits for it
	close(gate)
	wg.Wait()
	for _, err := range errs {
		assert.NilError(t, err)
	}
	assert.Check(t, is.Equal(baseOpens.Load(), int32(1)))
	assert.Check(t, is.Len(layerDirs(t, root), 3))
	assert.Check(t, is.Len(s.List(), 2))
}

func TestDeleteByRepoDigest(t *testing.T) {
	t.Parallel()
	s, root := newStore(t)
	img := newTestImage(t, nil, true, makeTar(t, file("a", "x")))
	ri := remoteOf(t, img, "reg.example/x:v1", nil)
	ri.RepoDigest = "reg.example/x@sha256:" + digest.FromString("m").Encoded()
	_, _, err := s.AddRemote(context.Background(), ri, nil)
	assert.NilError(t, err)

	// With the tag left, only the digest reference goes.
	recs, err := s.Delete(ri.RepoDigest, false, nil)
	assert.NilError(t, err)
	assert.Check(t, is.Len(recs, 1))
	assert.Check(t, is.Equal(recs[0].Untagged, ri.RepoDigest))
	got, err := s.Get("reg.example/x:v1")
	assert.NilError(t, err)
	assert.Check(t, is.Len(s.Inspect(got).RepoDigests, 0))

	// Removing the last tag takes the digest references with the image,
	// as in Docker.
	_, _, err = s.AddRemote(context.Background(), ri, nil)
	assert.NilError(t, err)
	recs, err = s.Delete("reg.example/x:v1", false, nil)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(recs[0].Untagged, "reg.example/x:v1"))
	assert.Check(t, is.Equal(recs[1].Untagged, ri.RepoDigest))
	assert.Check(t, recs[2].Deleted != "")

	// An image pulled by digest only goes with its digest reference.
	ri.Ref = ""
	_, _, err = s.AddRemote(context.Background(), ri, nil)
	assert.NilError(t, err)
	recs, err = s.Delete(ri.RepoDigest, false, nil)
	assert.NilError(t, err)
	assert.Check(t, recs[len(recs)-1].Deleted != "")
	assert.Check(t, is.Len(s.List(), 0))
	assert.Check(t, is.Len(layerDirs(t, root), 0))
}

// TestAddRemoteFetchesInParallel: up to maxConcurrentDownloads layers are
// fetched at once (each Open here waits until three are open); a failing
// layer stops the others and its error is the pull's, nothing left.
func TestAddRemoteFetchesInParallel(t *testing.T) {
	t.Parallel()
	s, root := newStore(t)
	var layers [][]byte
	for _, n := range []string{"1", "2", "3", "4"} {
		layers = append(layers, makeTar(t, file("f"+n, n)))
	}
	img := newTestImage(t, nil, true, layers...)
	ri := remoteOf(t, img, "reg.example/par:v1", nil)
	var open, maxOpen atomic.Int32
	all := make(chan struct{})
	var closeAll sync.Once
	for i := range ri.Layers {
		inner := ri.Layers[i].Open
		ri.Layers[i].Open = func(ctx context.Context) (io.ReadCloser, error) {
			n := open.Add(1)
			for {
				m := maxOpen.Load()
				if n <= m || maxOpen.CompareAndSwap(m, n) {
					break
				}
			}
			if n >= maxConcurrentDownloads {
				closeAll.Do(func() { close(all) })
			}
			defer open.Add(-1)
			select {
			case <-all:
			case <-time.After(10 * time.Second):
				return nil, errors.New("layers are fetched one at a time")
			}
			return inner(ctx)
		}
	}
	var mu sync.Mutex
	var complete int
	_, _, err := s.AddRemote(context.Background(), ri, func(e LayerEvent) {
		mu.Lock()
		defer mu.Unlock()
		if e.Status == "Pull complete" {
			complete++
		}
	})
	assert.NilError(t, err)
	assert.Check(t, is.Equal(complete, 4))
	assert.Check(t, is.Equal(maxOpen.Load(), int32(maxConcurrentDownloads)))
	assert.Check(t, is.Len(layerDirs(t, root), 4))

	// A failure cancels the layers in flight.
	s2, root2 := newStore(t)
	ri = remoteOf(t, img, "reg.example/par:v2", nil)
	ri.Layers[0].Open = func(ctx context.Context) (io.ReadCloser, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ri.Layers[1].Open = func(ctx context.Context) (io.ReadCloser, error) {
		return nil, errdefs.ErrUnavailable.WithMessage("blob 2 is gone")
	}
	_, _, err = s2.AddRemote(context.Background(), ri, nil)
	assert.Check(t, is.ErrorContains(err, "blob 2 is gone"))
	assert.Check(t, is.Len(layerDirs(t, root2), 0))
	assert.Check(t, is.Len(s2.List(), 0))
	assert.Check(t, is.Len(dirEntries(t, filepath.Join(root2, "tmp")), 0))
}
