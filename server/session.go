package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/synthcast/synthcast/loop"
	"github.com/synthcast/synthcast/render"
)

var bgCtx = context.Background()

// session is one uninterrupted run of a stream's rendering, from its first
// listener's arrival to its last one's departure. It starts at the stream's
// timeline position (a whole MP3 frame from the epoch), so a returning
// listener hears what the clock says, not the programme's first note. Its
// job renders and encodes the frames each tick asks for; at most one job of
// a session runs at a time (running), so the render state needs no lock.
type session struct {
	st           *Stream
	start        int64 // unix ns of the session's time zero: frame k plays at start + k·frame duration
	base         int64 // timeline frame (sample index) of the session's frame 0
	rate         int   // sample rate, Hz
	frameSamples int   // samples per channel in one frame

	loop.Token              // cancelled once, when the last listener leaves
	running    atomic.Bool  // a job of this session is queued or running
	due        atomic.Int64 // unix ns of the tick (or attach) the queued job is for

	// Job-owned render state, created by the first job (never on a loop).
	synth    *render.Synth
	enc      *render.Encoder
	pcm      []int16
	produced int64 // frames rendered (or skipped) since start
	failed   bool  // the encoder could not be made: the session renders nothing

	// Scratch kept across publishes (one job at a time).
	targets []*loopSet
}

// newSession returns st's session beginning at the MP3 frame of st's
// timeline that plays at now.
func newSession(st *Stream, now time.Time) *session {
	p := st.params.Load()
	fs := p.FrameSamples()
	k := st.frameAt(now) / int64(fs)
	return &session{
		st:           st,
		start:        st.epoch + int64(durationOf(k*int64(fs), p.SampleRate)),
		base:         k * int64(fs),
		rate:         p.SampleRate,
		frameSamples: fs,
	}
}

// elapsed is the session time at now. Safe from any goroutine.
func (se *session) elapsed(now time.Time) time.Duration {
	return time.Duration(now.UnixNano() - se.start)
}

// firstPublishFrames is how many frames the first job of a session renders
// before it publishes them, so a new listener's first audio byte does not
// wait for the whole burst to be encoded (~4 frames is ~100 ms of audio).
const firstPublishFrames = 4

// Run renders and publishes the frames due now. Worker goroutine only.
func (se *session) Run() {
	defer se.running.Store(false)
	if se.Cancelled() || se.failed {
		return
	}
	st := se.st
	h := st.hub
	if se.enc == nil {
		p := st.params.Load()
		enc, err := render.NewEncoder(p.SampleRate, p.Channels, p.Bitrate)
		if err != nil { // unreachable while Params admits only formats the encoder takes
			h.log.Error("creating the encoder; the stream stays silent", "id", st.id, "err", err)
			se.failed = true
			return
		}
		se.enc = enc
		se.synth = render.NewSynthAt(p, se.base)
		se.pcm = make([]int16, enc.FrameSamples()*p.Channels)
	}
	lead := h.cfg.Prebuffer + h.cfg.Tick
	elapsed := se.elapsed(h.now())
	due := framesDue(elapsed, lead, se.produced, se.rate, se.frameSamples)
	// A stream far behind (the machine was overloaded, or the process
	// stopped) skips ahead instead of bursting a backlog nobody can play:
	// the synthesiser moves to the timeline position past the gap.
	if limit := framesDue(lead+h.cfg.Tick, 0, 0, se.rate, se.frameSamples); due > limit {
		se.produced += due - limit
		se.synth = render.NewSynthAt(st.params.Load(), se.base+se.produced*int64(se.frameSamples))
		due = limit
		h.m.ticksSkipped.Inc()
	}
	first := se.produced == 0
	b := newBatch(se.produced)
	for i := int64(0); i < due; i++ {
		if se.Cancelled() {
			break
		}
		se.synth.Render(se.pcm, st.params.Load())
		t0 := time.Now() // real time: this measures the encoder, not the stream's clock
		out, err := se.enc.EncodeFrame(b.buf.B, se.pcm)
		h.m.encodeTime.Update(time.Since(t0).Seconds())
		if err != nil {
			h.log.Error("encoding a frame", "id", st.id, "err", err)
			break
		}
		b.buf.B = out
		b.ends = append(b.ends, int32(len(out)))
		se.produced++
		if first && len(b.ends) == firstPublishFrames && i+1 < due {
			st.publish(se, b)
			b = newBatch(se.produced)
		}
	}
	if len(b.ends) == 0 {
		b.release()
		return
	}
	st.publish(se, b)
	h.m.renderLateness.Update(float64(h.now().UnixNano()-se.due.Load()) / 1e9)
}

// batch is a run of consecutive encoded frames shared by the ring and every
// loop delivering it. It is reference-counted: the last release returns its
// buffer to the pool.
type batch struct {
	buf   *bytebufferpool.ByteBuffer
	ends  []int32 // end offset in buf.B of each frame
	first int64   // session index of the first frame
	seq   uint64
	refs  atomic.Int32
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

func newBatch(first int64) *batch {
	b := batchPool.Get().(*batch)
	b.buf = bytebufferpool.Get()
	b.ends = b.ends[:0]
	b.first = first
	b.seq = 0
	b.refs.Store(1)
	return b
}

func (b *batch) release() {
	if b.refs.Add(-1) != 0 {
		return
	}
	bytebufferpool.Put(b.buf)
	b.buf = nil
	batchPool.Put(b)
}

// deliverTask writes one batch to a stream's listeners on one event loop.
// It runs on that loop (gnet's EventLoop.Execute).
type deliverTask struct {
	h   *hub
	set *loopSet
	b   *batch
}

func (t deliverTask) Run(context.Context) error {
	h, set, b := t.h, t.set, t.b
	defer b.release()
	sent := 0
	var title *icyBlock // loaded once a metadata listener needs it
	if set.icy > 0 {
		title = set.st.title.Load()
	}
	bound := h.listenerBound()
	// Writing may close a connection (and detach it) synchronously, so walk
	// a copy of the list.
	set.scratch = append(set.scratch[:0], set.list...)
	for _, l := range set.scratch {
		if l.closed || b.seq < l.from {
			continue
		}
		queued := h.queued(l.gc, len(b.buf.B))
		h.queuedTotal.Add(int64(queued - l.queued))
		l.queued = queued
		if queued+len(b.buf.B) > bound {
			reason := dropQueue
			if queued+len(b.buf.B) <= h.cfg.QueueBytes {
				reason = dropMemory
			}
			h.drop(l, reason, queued, bound)
			continue
		}
		if l.icy.on {
			set.views = l.icy.appendViews(set.views[:0], b.buf.B, title)
			_, _ = l.gc.Writev(set.views)
			clear(set.views)
		} else {
			_, _ = l.gc.Write(b.buf.B)
		}
		sent++
	}
	h.m.sentBytes.Add(sent * len(b.buf.B))
	h.m.sentFrames.Add(sent * len(b.ends))
	clear(set.scratch)
	set.scratch = set.scratch[:0]
	return nil
}

// listenerBound is the queued bytes a listener may have now: QueueBytes
// while all listeners' queues together are within MaxQueuedBytes, less in
// proportion past it (never under minListenerBound), so the listeners
// furthest behind pass it, and are dropped, first. Any goroutine.
func (h *hub) listenerBound() int {
	total := h.queuedTotal.Load()
	if total <= h.cfg.MaxQueuedBytes {
		return h.cfg.QueueBytes
	}
	return max(int(int64(h.cfg.QueueBytes)*h.cfg.MaxQueuedBytes/total), minListenerBound)
}

// minListenerBound is the least a listener may queue when memory is short:
// a quarter second of 320 kbit/s, so one tick's delivery always fits.
const minListenerBound = 16 << 10

// drop disconnects a listener that fell too far behind: with a reset
// (SO_LINGER 0), so the kernel discards its queue at once instead of
// draining stale audio to it, and its memory is freed now. Its loop only.
func (h *hub) drop(l *listener, reason, queued, bound int) {
	l.closed = true
	h.m.dropped[reason].Inc()
	h.log.Info("dropping a slow listener", "id", l.st.id, "reason", dropNames[reason], "queued", queued, "bound", bound)
	_ = l.gc.SetLinger(0)
	_ = l.gc.Close()
}

// queued is how many bytes gc holds unsent, as far as the bound on queued
// bytes needs to know before n more are written: gnet's buffer plus the
// kernel's send queue. While gnet's buffer is empty the kernel's queue is
// within its SO_SNDBUF (the kernel allows twice the value set), and when that
// cannot reach the bound the ioctl is skipped: one syscall fewer per
// listener and tick (38,000 a second at 19,000 listeners).
func (h *hub) queued(gc gnet.Conn, n int) int {
	ob := gc.OutboundBuffered()
	if ob == 0 && 2*h.sndbuf+n <= h.cfg.QueueBytes {
		return 0
	}
	return ob + kernelQueued(gc)
}

// kernelQueued is the number of bytes in gc's kernel send queue not yet
// acknowledged by the peer (SIOCOUTQ), or 0 if it cannot be read.
func kernelQueued(gc interface{ Fd() int }) int {
	n, err := unix.IoctlGetInt(gc.Fd(), unix.SIOCOUTQ)
	if err != nil {
		return 0
	}
	return n
}
