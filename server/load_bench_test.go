package server

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/synthcast/synthcast/render"
	"github.com/synthcast/synthcast/store"
)

// prepareStreams writes n stream records, as the hub writes them, into a
// new bolt store in dir.
func prepareStreams(tb testing.TB, dir string, n int) {
	tb.Helper()
	s, err := store.OpenBolt(dir, store.BoltOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().UnixNano()
	p := render.Defaults()
	p.Mode = render.ModeMelody
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	inFlight := make(chan struct{}, store.DefaultQueueLen/2) // never a full queue: no ErrBusy
	for i := range n {
		p.Seed = uint64(i)
		wg.Add(1)
		inFlight <- struct{}{}
		id := newToken()
		s.Write(&store.Op{Key: id, Value: appendRecord(nil, now, now, newListenToken(id), "", &p), Version: 1, Done: func(op *store.Op) {
			if op.Err != nil {
				mu.Lock()
				failed = op.Err
				mu.Unlock()
			}
			<-inFlight
			wg.Done()
		}})
	}
	wg.Wait()
	if failed != nil {
		tb.Fatal(failed)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkHubLoad100k is a restart with 100,000 stored streams: open the
// bolt store (its consistency check included) and load every stream into a
// new hub, as server.New does before it listens. Goal: well under 1 s.
func BenchmarkHubLoad100k(b *testing.B) {
	const n = 100000
	dir := b.TempDir()
	prepareStreams(b, dir, n)
	fi, err := os.Stat(filepath.Join(dir, store.DataFile))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := store.OpenBolt(dir, store.BoltOptions{})
		if err != nil {
			b.Fatal(err)
		}
		cfg := Config{Store: s, MaxStreams: 2 * n, Logger: log}.withDefaults()
		h := newHub(cfg)
		loaded, _, err := h.load()
		if err != nil || loaded != n {
			b.Fatalf("load = %d, %v; want %d", loaded, err, n)
		}
		h.close()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fi.Size())/n, "disk-bytes/stream")
}
