package server

import (
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/synthcast/synthcast/render"
	"github.com/synthcast/synthcast/store"
)

// clock is a synthetic clock: it moves only when the test says.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// heldStore is a store.Memory whose writes wait until the test releases
// them, or fail with err while it is set: a store's commit as a test drives it.
type heldStore struct {
	*store.Memory
	mu   sync.Mutex
	hold bool
	err  error
	held []*store.Op
}

func (s *heldStore) Write(op *store.Op) {
	s.mu.Lock()
	switch {
	case s.err != nil:
		err := s.err
		s.mu.Unlock()
		op.Err = err
		op.Done(op)
		return
	case s.hold:
		s.held = append(s.held, op)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.Memory.Write(op)
}

// release commits the held writes, in order.
func (s *heldStore) release() {
	s.mu.Lock()
	held := s.held
	s.held, s.hold = nil, false
	s.mu.Unlock()
	for _, op := range held {
		s.Memory.Write(op)
	}
}

func testHub(t *testing.T, st store.Store, clk *clock, ttl time.Duration) *hub {
	t.Helper()
	cfg := Config{Store: st, Clock: clk.Now, StreamTTL: ttl, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := newHub(cfg.withDefaults())
	t.Cleanup(h.close)
	if _, _, err := h.load(); err != nil {
		t.Fatal(err)
	}
	return h
}

func mustCreate(t *testing.T, h *hub, pairs ...string) *Stream {
	t.Helper()
	p, err := render.Defaults().With(toPairs(pairs), true)
	if err != nil {
		t.Fatal(err)
	}
	var ch change
	if done, err := h.create("", p, &ch); !done || err != nil || ch.Err != nil {
		t.Fatalf("create = %v, %v, %v", done, err, ch.Err)
	}
	return ch.st
}

func toPairs(kv []string) []render.Pair {
	var ps []render.Pair
	for i := 0; i+1 < len(kv); i += 2 {
		ps = append(ps, render.Pair{Key: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return ps
}

func mustApply(t *testing.T, h *hub, st *Stream, kv ...string) {
	t.Helper()
	var ch change
	if done, err := h.apply(st, toPairs(kv), &ch); !done || err != nil || ch.Err != nil {
		t.Fatalf("apply(%q) = %v, %v, %v", kv, done, err, ch.Err)
	}
}

// A stream nobody listens to expires after its time-to-live, on disk too.
func TestHubExpiry(t *testing.T) {
	clk, mem := newClock(), store.NewMemory()
	h := testHub(t, mem, clk, time.Minute)
	st := mustCreate(t, h)
	h.advance(clk.Add(59 * time.Second))
	if lookupControl(h, []byte(st.ID())) != st {
		t.Fatalf("stream gone after 59 s of a 1 min TTL")
	}
	h.advance(clk.Add(2 * time.Second))
	if lookupControl(h, []byte(st.ID())) != nil || h.streamCount() != 0 {
		t.Fatalf("stream still held after its TTL: count %d", h.streamCount())
	}
	if n := countRecords(t, mem); n != 0 {
		t.Errorf("store holds %d records after expiry; want 0", n)
	}
}

func countRecords(t *testing.T, s store.Store) int {
	t.Helper()
	n := 0
	if err := s.Load(func(store.Record) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A new hub over the same store has every stream with its parameters,
// timeline and idle clock; one whose TTL passed while down is dropped.
func TestHubRestart(t *testing.T) {
	clk, mem := newClock(), store.NewMemory()
	h1 := testHub(t, mem, clk, 10*time.Minute)
	old := mustCreate(t, h1, "mode", "melody")
	clk.Add(5 * time.Minute)
	keep := mustCreate(t, h1, "mode", "melody", "samplerate", "22050")
	mustApply(t, h1, keep, "tempo", "90", "scale", "minor")

	clk.Add(6 * time.Minute) // old has been idle 11 min, keep 6
	h2 := testHub(t, mem, clk, 10*time.Minute)
	if lookupControl(h2, []byte(old.ID())) != nil {
		t.Errorf("a stream idle past its TTL was loaded")
	}
	got := lookupControl(h2, []byte(keep.ID()))
	if got == nil {
		t.Fatalf("stream %s not loaded", keep.ID())
	}
	if *got.Params() != *keep.Params() || got.epoch != keep.epoch {
		t.Errorf("loaded params %v epoch %d; want %v epoch %d", got.Params(), got.epoch, keep.Params(), keep.epoch)
	}
	if n := countRecords(t, mem); n != 1 {
		t.Errorf("store holds %d records; want the expired one deleted", n)
	}
	// The idle clock was persisted: 4 more minutes and it expires.
	h2.advance(clk.Add(4*time.Minute + time.Second))
	if lookupControl(h2, []byte(keep.ID())) != nil {
		t.Errorf("loaded stream outlived the TTL counted from its last listener")
	}
}

// A failed write answers with the error and changes nothing; the stream
// keeps its parameters, and the next change, once the store works, applies.
func TestHubFailedWriteChangesNothing(t *testing.T) {
	clk := newClock()
	hs := &heldStore{Memory: store.NewMemory()}
	h := testHub(t, hs, clk, time.Hour)
	st := mustCreate(t, h)
	hs.err = store.ErrCommit
	var ch change
	if done, err := h.apply(st, toPairs([]string{"freq", "300"}), &ch); !done || err != nil || !errors.Is(ch.Err, store.ErrCommit) {
		t.Fatalf("apply on a failing store = %v, %v, %v; want ErrCommit", done, err, ch.Err)
	}
	if f := st.Params().Freq; f != 440 {
		t.Errorf("freq after a failed write = %v; want 440", f)
	}
	if _, err := h.create("", render.Defaults(), &ch); err != nil || !errors.Is(ch.Err, store.ErrCommit) || h.streamCount() != 1 {
		t.Errorf("create on a failing store: %v, %v, count %d; want ErrCommit and 1 stream", err, ch.Err, h.streamCount())
	}
	hs.err = nil
	mustApply(t, h, st, "freq", "330")
	if f := st.Params().Freq; f != 330 {
		t.Errorf("freq after recovery = %v; want 330", f)
	}
}

// Changes in flight chain on each other and publish only when durable; if
// one fails, those computed on top of it fail too, and what follows starts
// again from what the store has.
func TestHubChangesInFlight(t *testing.T) {
	clk := newClock()
	hs := &heldStore{Memory: store.NewMemory()}
	h := testHub(t, hs, clk, time.Hour)
	st := mustCreate(t, h)
	hs.hold = true
	var a, b change
	reported := make(chan *change, 2)
	a.done = func(c *change) { reported <- c }
	b.done = a.done
	if done, err := h.apply(st, toPairs([]string{"freq", "300"}), &a); done || err != nil {
		t.Fatalf("held apply = %v, %v; want pending", done, err)
	}
	if done, err := h.apply(st, toPairs([]string{"gain", "0.25"}), &b); done || err != nil {
		t.Fatalf("held apply = %v, %v; want pending", done, err)
	}
	if p := st.Params(); p.Freq != 440 || p.Gain != render.Defaults().Gain {
		t.Fatalf("params published before the store has them: %v", p)
	}
	hs.release()
	for range 2 {
		if c := <-reported; c.Err != nil {
			t.Fatalf("change reported %v", c.Err)
		}
	}
	if p := st.Params(); p.Freq != 300 || p.Gain != 0.25 {
		t.Fatalf("after both commits: %v; want freq 300 gain 0.25", p)
	}

	// The first of two fails: the second, built on it, fails its version check.
	hs.mu.Lock()
	hs.hold = true
	hs.mu.Unlock()
	_, _ = h.apply(st, toPairs([]string{"freq", "200"}), &a)
	_, _ = h.apply(st, toPairs([]string{"gain", "0.1"}), &b)
	hs.mu.Lock()
	held := hs.held
	hs.held, hs.hold = nil, false
	hs.mu.Unlock()
	held[0].Err = store.ErrCommit
	held[0].Done(held[0])
	hs.Memory.Write(held[1])
	for range 2 {
		if c := <-reported; c.Err == nil {
			t.Fatalf("a change built on a failed one was stored")
		}
	}
	if p := st.Params(); p.Freq != 300 || p.Gain != 0.25 {
		t.Fatalf("after failed changes: %v; want freq 300 gain 0.25", p)
	}
	mustApply(t, h, st, "gain", "0.75")
	if p := st.Params(); p.Freq != 300 || p.Gain != 0.75 {
		t.Fatalf("after recovery: %v; want freq 300 gain 0.75", p)
	}
}

// The stream cap counts what is stored, loaded streams included.
func TestHubMaxStreamsCountsStored(t *testing.T) {
	clk, mem := newClock(), store.NewMemory()
	cfg := Config{Store: mem, Clock: clk.Now, MaxStreams: 3, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h1 := newHub(cfg.withDefaults())
	defer h1.close()
	for range 3 {
		mustCreate(t, h1)
	}
	h2 := newHub(cfg.withDefaults())
	defer h2.close()
	if _, _, err := h2.load(); err != nil {
		t.Fatal(err)
	}
	var ch change
	if _, err := h2.create("", render.Defaults(), &ch); !errors.Is(err, ErrStreamLimit) {
		t.Errorf("create with 3 of 3 stored = %v; want ErrStreamLimit", err)
	}
}

// A record the hub cannot read stops the load, naming the stream.
func TestHubLoadRefusesBadRecord(t *testing.T) {
	mem := store.NewMemory()
	op := store.Op{Key: newToken(), Value: []byte{recordFormat, 1, 2}, Version: 1, Done: func(*store.Op) {}}
	mem.Write(&op)
	cfg := Config{Store: mem, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := newHub(cfg.withDefaults())
	defer h.close()
	if _, _, err := h.load(); !errors.Is(err, errBadRecord) {
		t.Fatalf("load over a damaged record = %v; want errBadRecord", err)
	}
}

// A tempo change keeps the melody's position continuous where it is first
// rendered, and survives a restart.
func TestHubTempoAnchor(t *testing.T) {
	clk, mem := newClock(), store.NewMemory()
	h := testHub(t, mem, clk, time.Hour)
	st := mustCreate(t, h, "mode", "melody")
	clk.Add(90 * time.Second)
	before := *st.Params()
	mustApply(t, h, st, "tempo", "60")
	after := st.Params()
	f := st.frameAt(clk.Now().Add(h.cfg.Prebuffer + h.cfg.Tick))
	if a, b := before.StepAt(f), after.StepAt(f); a != b {
		t.Errorf("step at the change frame: %v before, %v after; want continuous", a, b)
	}
	if a, b := before.StepAt(f+44100), after.StepAt(f+44100); b >= a {
		t.Errorf("a second later: step %v at 120 bpm, %v at 60 bpm; want slower", a, b)
	}
	h2 := testHub(t, mem, clk, time.Hour)
	if got := lookupControl(h2, []byte(st.ID())); got == nil || *got.Params() != *after {
		t.Errorf("after restart: %v; want %v", got, after)
	}
}

// Many goroutines change one stream at once over the bolt store: every
// change is stored, in order, none refused for a version the store saw out
// of turn (a stream's writes reach the store in version order).
func TestHubConcurrentChangesOneStream(t *testing.T) {
	bs, err := store.OpenBolt(t.TempDir(), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	clk := newClock()
	h := testHub(t, bs, clk, time.Hour)
	var st *Stream
	{
		var ch change
		done := make(chan struct{})
		ch.done = func(*change) { close(done) }
		if completed, err := h.create("", render.Defaults(), &ch); err != nil {
			t.Fatal(err)
		} else if !completed {
			<-done
		}
		if ch.Err != nil {
			t.Fatal(ch.Err)
		}
		st = ch.st
	}
	const workers, each = 8, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ch change
			done := make(chan struct{}, 1)
			ch.done = func(*change) { done <- struct{}{} }
			for i := range each {
				pairs := toPairs([]string{"seed", strconv.Itoa(w*1000 + i + 2)})
				completed, err := h.apply(st, pairs, &ch)
				if err != nil {
					errs <- err
					return
				}
				if !completed {
					<-done
				}
				if ch.Err != nil {
					errs <- ch.Err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a change failed: %v", err)
	}
	st.mu.Lock()
	v := st.version
	st.mu.Unlock()
	if v != 1+workers*each {
		t.Errorf("version after %d changes = %d; want %d", workers*each, v, 1+workers*each)
	}
}

// lookupControl is hub.lookup of a control token, for tests.
func lookupControl(h *hub, id []byte) *Stream {
	st, control := h.lookup(id)
	if st != nil && !control {
		panic("lookupControl: a listen token")
	}
	return st
}
