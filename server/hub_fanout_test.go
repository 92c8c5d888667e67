package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/synthcast/synthcast/render"
	"github.com/synthcast/synthcast/store"
)

// fakeLoop is an event loop the test goroutine runs: Execute queues, run
// drains. It stands in for gnet's loop so the hub's fan-out runs on
// synthetic time, with no socket.
type fakeLoop struct {
	gnet.EventLoop // only Execute is used
	tasks          chan gnet.Runnable
}

func newFakeLoop() *fakeLoop { return &fakeLoop{tasks: make(chan gnet.Runnable, 64)} }

func (l *fakeLoop) Execute(_ context.Context, r gnet.Runnable) error {
	l.tasks <- r
	return nil
}

// runUntil runs queued tasks until cond holds, failing after 10 s of
// waiting for the workers. cond is checked after each task and, while no
// task comes, every millisecond (a worker's state changes without one).
func (l *fakeLoop) runUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case r := <-l.tasks:
			_ = r.Run(context.Background())
		case <-poll.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// fakeConn is a listener's connection that collects what it is sent.
type fakeConn struct {
	gnet.Conn // only the methods below are used
	got       []byte
	backlog   int // what OutboundBuffered says: bytes it has not read
	closed    bool
	reset     bool // closed with SO_LINGER 0
}

func (c *fakeConn) Write(b []byte) (int, error) { c.got = append(c.got, b...); return len(b), nil }
func (c *fakeConn) Writev(bs [][]byte) (int, error) {
	n := 0
	for _, b := range bs {
		c.got = append(c.got, b...)
		n += len(b)
	}
	return n, nil
}
func (c *fakeConn) AsyncWrite(b []byte, cb gnet.AsyncCallback) error {
	c.got = append(c.got, b...)
	if cb != nil {
		return cb(c, nil)
	}
	return nil
}
func (c *fakeConn) OutboundBuffered() int { return c.backlog }
func (c *fakeConn) Fd() int               { return -1 }
func (c *fakeConn) SetLinger(int) error   { c.reset = true; return nil }
func (c *fakeConn) Close() error          { c.closed = true; return nil }

// frames counts the whole MP3 frames in b, failing on a broken chain.
func frames(t *testing.T, b []byte) int {
	t.Helper()
	n := 0
	for len(b) >= 4 {
		h, err := render.ParseFrameHeader(b)
		if err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		if h.Length > len(b) {
			t.Fatalf("frame %d cut: %d of %d bytes", n, len(b), h.Length)
		}
		b = b[h.Length:]
		n++
	}
	if len(b) != 0 {
		t.Fatalf("%d stray bytes after %d frames", len(b), n)
	}
	return n
}

// Fan-out, pacing and the session's life on synthetic time: one render per
// tick for any number of listeners, exactly the frames the clock asks for,
// a joiner cut in at a frame boundary, and the last listener's departure
// ending the session and starting the TTL.
func TestHubFanOutSyntheticTime(t *testing.T) {
	clk := newClock()
	h := testHub(t, store.NewMemory(), clk, time.Minute)
	h.cfg.Tick, h.cfg.Prebuffer = 100*time.Millisecond, 250*time.Millisecond
	st := mustCreate(t, h, "samplerate", "16000", "channels", "1", "bitrate", "32")
	const fs, rate = 576, 16000 // MPEG-2 layer III: 576 samples a frame
	el := newFakeLoop()

	a, b := &fakeConn{}, &fakeConn{}
	la, lb := &listener{gc: a}, &listener{gc: b}
	if _, _, err := h.attach(st, la, 0, el, nil, nil); err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	lead := h.cfg.Prebuffer + h.cfg.Tick
	want := int(framesDue(st.sess.Load().elapsed(start), lead, 0, rate, fs))
	idle := func() bool { return !st.sess.Load().running.Load() } // the job is done, the next tick may submit
	el.runUntil(t, "the burst", func() bool { return len(a.got) > 0 && frames(t, a.got) == want && idle() })

	// Ticks on synthetic time: each renders what the clock asks for, once.
	for i := 1; i <= 5; i++ {
		now := clk.Add(h.cfg.Tick)
		h.advance(now)
		want = int(framesDue(st.sess.Load().elapsed(now), lead, 0, rate, fs))
		el.runUntil(t, "a tick's frames", func() bool { return frames(t, a.got) == want && idle() })
	}

	// A joiner gets the frames from the one playing now to the newest.
	if _, _, err := h.attach(st, lb, 0, el, nil, nil); err != nil {
		t.Fatal(err)
	}
	views, refs, _ := h.attach(st, &listener{gc: &fakeConn{}}, 0, el, nil, nil) // a third, to read its burst
	var burst []byte
	for _, v := range views {
		burst = append(burst, v...)
	}
	for _, r := range refs {
		r.release()
	}
	playing := framePlaying(st.sess.Load().elapsed(clk.Now()), rate, fs)
	if n := frames(t, burst); int64(n) != int64(want)-playing {
		t.Errorf("joiner's burst: %d frames; want %d (from frame %d to %d)", n, int64(want)-playing, playing, want)
	}
	now := clk.Add(h.cfg.Tick)
	h.advance(now)
	want2 := int(framesDue(st.sess.Load().elapsed(now), lead, 0, rate, fs))
	el.runUntil(t, "the next tick", func() bool { return frames(t, a.got) == want2 && idle() })
	if got := frames(t, b.got); got != want2-want {
		t.Errorf("joined listener got %d frames of the next tick; want %d", got, want2-want)
	}
	if h.sessions.Load() != 1 {
		t.Errorf("%d sessions for one stream; want 1", h.sessions.Load())
	}

	// Every listener leaves: the session ends and the TTL starts.
	for _, l := range []*listener{la, lb} {
		h.detach(l)
	}
	for _, set := range st.sets {
		for len(set.list) > 0 {
			h.detach(set.list[0])
		}
	}
	if st.sess.Load() != nil || h.sessions.Load() != 0 || h.listeners.Load() != 0 {
		t.Fatalf("after the last listener: session %v, %d sessions, %d listeners", st.sess.Load(), h.sessions.Load(), h.listeners.Load())
	}
	h.advance(clk.Add(time.Minute + time.Second))
	if lookupControl(h, []byte(st.ID())) != nil {
		t.Errorf("stream outlived its TTL after its last listener left")
	}
}

// A session starts at the MP3 frame of the stream's timeline that plays
// now: a listener ten minutes after creation does not hear the first note.
func TestSessionStartsOnTheTimeline(t *testing.T) {
	clk := newClock()
	h := testHub(t, store.NewMemory(), clk, time.Hour)
	st := mustCreate(t, h, "mode", "melody")
	now := clk.Add(10*time.Minute + 7*time.Millisecond)
	se := newSession(st, now)
	fs := int64(st.Params().FrameSamples())
	wantBase := (10*60*44100 + 7*44100/1000) / fs * fs
	if se.base != wantBase {
		t.Errorf("session base frame = %d; want %d", se.base, wantBase)
	}
	if el := se.elapsed(now); el < 0 || el >= time.Duration(fs)*time.Second/44100 {
		t.Errorf("session elapsed at its start = %v; want within one MP3 frame", el)
	}
}

// Past MaxQueuedBytes in total, the listeners furthest behind are dropped
// first, with a reset; one that keeps up stays, and each drop says why.
func TestHubTotalQueueBound(t *testing.T) {
	clk := newClock()
	h := testHub(t, store.NewMemory(), clk, time.Minute)
	h.cfg.QueueBytes, h.cfg.MaxQueuedBytes = 512<<10, 1<<20
	h.cfg.Tick, h.cfg.Prebuffer = 100*time.Millisecond, 250*time.Millisecond
	st := mustCreate(t, h, "samplerate", "16000", "channels", "1", "bitrate", "32")
	el := newFakeLoop()
	behind := []int{450 << 10, 420 << 10, 300 << 10, 100 << 10, 0}
	conns := make([]*fakeConn, len(behind))
	for i, q := range behind {
		conns[i] = &fakeConn{backlog: q}
		if _, _, err := h.attach(st, &listener{gc: conns[i]}, 0, el, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Two deliveries: the burst measures the queues (1.27 MiB in all), the
	// next tick's applies the shrunk bound (512 KiB × 1 MiB / 1.27 MiB ≈
	// 403 KiB). The clock moves only once the burst is rendered, so the tick
	// has frames of its own to deliver.
	sess := st.sess.Load()
	el.runUntil(t, "the burst", func() bool { return !sess.running.Load() && len(el.tasks) == 0 })
	h.advance(clk.Add(h.cfg.Tick))
	el.runUntil(t, "the tick's delivery", func() bool { return !sess.running.Load() && len(el.tasks) == 0 && h.m.dropped[dropMemory].Get() > 0 })
	for i, c := range conns {
		want := behind[i] >= 403<<10
		if c.closed != want || c.closed != c.reset {
			t.Errorf("listener %d, %d KiB behind: closed %v reset %v; want closed %v with a reset", i, behind[i]>>10, c.closed, c.reset, want)
		}
	}
	if got := h.m.dropped[dropMemory].Get(); got != 2 {
		t.Errorf("dropped for memory: %d; want 2", got)
	}
	if got := h.m.dropped[dropQueue].Get(); got != 0 {
		t.Errorf("dropped at their own bound: %d; want 0", got)
	}
}

// /events subscribers on synthetic time: an event per accepted change (none
// for a refused one or a touch), a ping every 15 s and not more often, and
// a subscriber that leaves too much unread is dropped.
func TestHubEvents(t *testing.T) {
	clk := newClock()
	h := testHub(t, store.NewMemory(), clk, time.Hour)
	st := mustCreate(t, h, "mode", "melody")
	a, slow := &fakeConn{}, &fakeConn{backlog: eventQueueBytes + 1}
	for _, c := range []*fakeConn{a, slow} {
		if err := h.subscribe(st, &subscriber{gc: c}); err != nil {
			t.Fatal(err)
		}
	}
	mustApply(t, h, st, "tempo", "90")
	var ch change
	if _, err := h.apply(st, toPairs([]string{"tempo", "nope"}), &ch); err == nil {
		t.Fatal("a bad tempo was accepted")
	}
	if n := strings.Count(string(a.got), "event: params\n"); n != 1 || !strings.Contains(string(a.got), `"tempo":90`) {
		t.Fatalf("after one accepted change: %q", a.got)
	}
	if !slow.closed || !slow.reset {
		t.Errorf("a subscriber %d bytes behind was not dropped", slow.backlog)
	}
	h.advance(clk.Add(eventPing))
	h.advance(clk.Add(time.Second))
	if n := strings.Count(string(a.got), ": ping\n\n"); n != 1 {
		t.Errorf("%d pings in 16 s; want 1", n)
	}
	h.advance(clk.Add(eventPing))
	if n := strings.Count(string(a.got), ": ping\n\n"); n != 2 {
		t.Errorf("%d pings in 31 s; want 2", n)
	}
}
