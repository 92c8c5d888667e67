package server

import (
	"context"
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
	closed    bool
}

func (c *fakeConn) Write(b []byte) (int, error) { c.got = append(c.got, b...); return len(b), nil }
func (c *fakeConn) OutboundBuffered() int       { return 0 }
func (c *fakeConn) Fd() int                     { return -1 }
func (c *fakeConn) Close() error                { c.closed = true; return nil }

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
	if h.lookup([]byte(st.ID())) != nil {
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
