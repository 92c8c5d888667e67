package server

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/bytebufferpool"

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
	// A frame's PCM is scratch of the job, not the session: borrowed from
	// the pool for the job, so a stream at rest holds none.
	scratch := pcmPool.Get().(*[pcmScratch]int16)
	defer pcmPool.Put(scratch)
	pcm := scratch[:se.frameSamples*se.enc.Channels()]
	// A batch holds at most a tick's frames (a joiner's first, fewer, so
	// its first byte need not wait for the whole burst), and its buffer is
	// sized once for them: appended to frame by frame it would grow by
	// copies, and a burst's large buffer, pooled, would come back for a
	// tick's frames, its spare capacity kept in the ring while they play.
	tickFrames := max(framesDue(h.cfg.Tick, 0, 0, se.rate, se.frameSamples), firstPublishFrames)
	limit := tickFrames
	if first {
		limit = firstPublishFrames
	}
	maxFrame := se.enc.MaxFrameBytes()
	b := newBatch(se.produced, int(min(due, limit))*maxFrame)
	for i := int64(0); i < due; i++ {
		if se.Cancelled() {
			break
		}
		se.synth.Render(pcm, st.params.Load())
		t0 := time.Now() // real time: this measures the encoder, not the stream's clock
		out, err := se.enc.EncodeFrame(b.buf.B, pcm)
		h.m.encodeTime.Update(time.Since(t0).Seconds())
		if err != nil {
			h.log.Error("encoding a frame", "id", st.id, "err", err)
			break
		}
		b.buf.B = out
		b.ends = append(b.ends, int32(len(out)))
		se.produced++
		if int64(len(b.ends)) == limit && i+1 < due {
			st.publish(se, b)
			limit = tickFrames
			b = newBatch(se.produced, int(min(due-i-1, limit))*maxFrame)
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
	class int     // its pool in bufPools
	ends  []int32 // end offset in buf.B of each frame
	first int64   // session index of the first frame
	seq   uint64
	refs  atomic.Int32
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

// pcmScratch is the most samples one frame has: 1152 a channel, stereo.
const pcmScratch = 2 * 1152

// pcmPool holds the render jobs' frame buffers (at most one per running
// job).
var pcmPool = sync.Pool{New: func() any { return new([pcmScratch]int16) }}

// bufClasses is how many sizes of batch buffers are pooled apart: one per
// KiB up to 64 KiB, and one for all larger.
const bufClasses = 65

// bufPools pools batch buffers by size, a KiB apart: a tick's frames and a
// joiner's burst differ by ten times, and from one pool a burst's buffer
// would come back holding a tick's frames, its spare capacity kept in the
// ring for as long as they play. Each pool calibrates itself
// (bytebufferpool), so a class keeps buffers of its size.
var bufPools [bufClasses]bytebufferpool.Pool

// newBatch returns a batch of frames from session frame first on, with room
// for size bytes.
func newBatch(first int64, size int) *batch {
	b := batchPool.Get().(*batch)
	b.class = min((size+1023)/1024, bufClasses-1)
	b.buf = bufPools[b.class].Get()
	b.buf.B = slices.Grow(b.buf.B[:0], size)
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
	bufPools[b.class].Put(b.buf)
	b.buf = nil
	batchPool.Put(b)
}
