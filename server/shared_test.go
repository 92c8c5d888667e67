package server

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/synthcast/synthcast/render"
	"github.com/synthcast/synthcast/store"
)

// sharedMemory is a store.Memory shared by several hubs as Redis is by
// several nodes: Get reads a record, and Watch tells every watcher of each
// change, on the watcher's goroutine.
type sharedMemory struct {
	*store.Memory
	mu       sync.Mutex
	watchers []chan string
}

func (m *sharedMemory) Write(op *store.Op) {
	done := op.Done
	op.Done = func(op *store.Op) {
		if op.Err == nil {
			m.mu.Lock()
			for _, w := range m.watchers {
				w <- op.Key
			}
			m.mu.Unlock()
		}
		op.Done = done
		done(op)
	}
	m.Memory.Write(op)
}

func (m *sharedMemory) Get(_ context.Context, key string) (store.Record, error) {
	var rec store.Record
	found := false
	err := m.Memory.Load(func(r store.Record) error {
		if r.Key == key {
			rec, found = store.Record{Key: r.Key, Value: append([]byte(nil), r.Value...), Version: r.Version}, true
		}
		return nil
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	return rec, err
}

func (m *sharedMemory) Watch(ctx context.Context, changed func(string), resync func()) error {
	ch := make(chan string, 1024)
	m.mu.Lock()
	m.watchers = append(m.watchers, ch)
	m.mu.Unlock()
	resync()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case k := <-ch:
			changed(k)
		}
	}
}

// sharedHub is a hub over a shared store, following it until the test ends.
func sharedHub(t *testing.T, sm *sharedMemory, clk *clock) *hub {
	t.Helper()
	h := testHub(t, sm, clk, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h.startShared(ctx)
	return h
}

// eventually polls cond for up to 5 s: the other node learns through its
// watcher's goroutine.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5 s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Two nodes over one shared store: a stream created on one is held by the
// other, a change on either is rendered by both, a miss is loaded on
// demand, and a stream listened to on one node is not expired by the other.
func TestSharedStoreTwoNodes(t *testing.T) {
	clk := newClock()
	sm := &sharedMemory{Memory: store.NewMemory()}
	a, b := sharedHub(t, sm, clk), sharedHub(t, sm, clk)
	st := mustCreate(t, a, "mode", "melody")
	id := []byte(st.ID())
	eventually(t, "node b holds the stream node a made", func() bool { return lookupControl(b, id) != nil })
	sb := lookupControl(b, id)
	if sb.epoch != st.epoch || sb.listenID != st.listenID || *sb.Params() != *st.Params() {
		t.Fatalf("node b's copy differs: %+v", sb.Params())
	}
	mustApply(t, b, sb, "tempo", "90")
	eventually(t, "node a renders node b's change", func() bool { return st.Params().Tempo == 90 })
	mustApply(t, a, st, "scale", "minor")
	eventually(t, "node b renders node a's change", func() bool { return sb.Params().Scale == render.ScaleMinor })

	// A listener on node a: its touch says so in the record, and node b,
	// whose TTL runs out, does not expire the stream.
	a.touchForTest(st, 1)
	eventually(t, "node b sees the listener", func() bool {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		return sb.idle == 0
	})
	b.advance(clk.Add(2 * time.Minute))
	if lookupControl(b, id) == nil {
		t.Fatalf("node b expired a stream listened to on node a")
	}
	if _, err := sm.Get(context.Background(), st.ID()); err != nil {
		t.Fatalf("the stream is gone from the store: %v", err)
	}

	// The listener leaves: both nodes may expire it now, one deletes it,
	// the other drops it.
	a.touchForTest(st, 0)
	eventually(t, "node b sees the stream idle", func() bool {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		return sb.idle != 0
	})
	a.advance(clk.Add(2 * time.Minute))
	eventually(t, "both nodes drop the expired stream", func() bool {
		return lookupControl(a, id) == nil && lookupControl(b, id) == nil
	})
	if _, err := sm.Get(context.Background(), st.ID()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired stream still stored: %v", err)
	}
}

// A node asked for a stream it has not heard of loads it from the store.
func TestSharedStoreFetch(t *testing.T) {
	clk := newClock()
	sm := &sharedMemory{Memory: store.NewMemory()}
	a := testHub(t, sm, clk, time.Minute) // not watching: it never hears of b's creates
	b := sharedHub(t, sm, clk)
	a.shared = &shared{sh: sm, fetches: make(chan struct{}, maxFetches)}
	st := mustCreate(t, b, "freq", "330")
	id := []byte(st.ID())
	if lookupControl(a, id) != nil || !a.canFetch(id) {
		t.Fatalf("node a holds a stream it never heard of, or will not fetch it")
	}
	done := make(chan struct{})
	if err := a.fetch(id, func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
	if got := lookupControl(a, id); got == nil || got.Params().Freq != 330 {
		t.Fatalf("after a fetch node a holds %v", got)
	}
	if a.canFetch([]byte(st.listenID)) {
		t.Errorf("a listen token is fetched")
	}
}

// touchForTest sets st's listener count to n and stores its idle clock as
// attach and detach would. The listeners need no connection.
func (h *hub) touchForTest(st *Stream, n int32) {
	st.n.Store(n)
	h.touch(st)
}
