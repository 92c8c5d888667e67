package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/synthcast/synthcast/loop"
	"github.com/synthcast/synthcast/render"
)

// Stream is one token's stream: its parameters and, while listeners are
// attached, its render session, its recent frames and its listeners.
//
// Locks: mu guards the fields marked so. The server's wheelMu may be taken
// while mu is held, never the other way round (OnTick collects due streams
// under wheelMu and handles them after releasing it).
type Stream struct {
	id   string
	live *render.Live // the current immutable Params snapshot; safe from any goroutine
	srv  *Server

	sess atomic.Pointer[session] // the render session; nil while no listener
	n    atomic.Int32            // listeners, readable without mu

	mu      sync.Mutex
	sets    []*loopSet // listeners by event loop index; mu guards the slice, each set's list is loop-only
	ring    []*batch   // recent frames, oldest first, for joining listeners; mu
	seq     uint64     // sequence number of the last published batch; mu
	removed bool       // no longer in the registry; mu

	tickTimer loop.Timer // in the wheel while a session runs; wheelMu
	ttlTimer  loop.Timer // in the wheel while no listener is attached; wheelMu
}

func newStream(srv *Server, id string, p render.Params) *Stream {
	st := &Stream{id: id, live: render.NewLive(p), srv: srv}
	st.tickTimer.Value = st
	st.ttlTimer.Value = st
	return st
}

// ID is the stream's token.
func (st *Stream) ID() string { return st.id }

// Params returns the current parameters snapshot. Safe from any goroutine;
// the result must not be modified.
func (st *Stream) Params() *render.Params { return st.live.Load() }

// Listeners is the number of attached listeners. Safe from any goroutine.
func (st *Stream) Listeners() int { return int(st.n.Load()) }

// loopSet is a stream's listeners on one event loop. list and scratch are
// touched only on that loop; n mirrors len(list) under the stream's mu, so a
// worker can tell which loops to deliver to.
type loopSet struct {
	el      gnet.EventLoop
	list    []*listener
	scratch []*listener
	n       int // mu
}

// listener is one /stream connection attached to a stream. Loop-only.
type listener struct {
	gc     gnet.Conn
	st     *Stream
	set    *loopSet
	idx    int    // position in set.list
	from   uint64 // first batch sequence number to deliver (earlier ones were in the burst)
	closed bool   // dropped or detached: write nothing more
}

// attach adds l to st and appends the burst to views: the frames from the
// one a real-time player of the session would be playing now to the newest,
// each batch they sit in referenced once more in refs. The caller writes the
// views (after the response head) and then releases refs: writing here,
// under mu, could deadlock, since gnet closes a connection whose write fails
// synchronously, and OnClose detaches. For the first listener of an idle
// stream, attach starts a session whose first job, submitted at once,
// renders the burst. ok is false if the stream was removed meanwhile.
// Loop goroutine of l only.
func (st *Stream) attach(l *listener, loopIdx int, el gnet.EventLoop, now time.Time, views [][]byte, refs []*batch) (_ [][]byte, _ []*batch, ok bool) {
	s := st.srv
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.removed {
		return views, refs, false
	}
	for len(st.sets) <= loopIdx {
		st.sets = append(st.sets, nil)
	}
	set := st.sets[loopIdx]
	if set == nil {
		set = &loopSet{el: el}
		st.sets[loopIdx] = set
	}
	l.st, l.set, l.idx = st, set, len(set.list)
	set.list = append(set.list, l)
	set.n++
	st.n.Add(1)
	l.from = st.seq + 1

	sess := st.sess.Load()
	if sess == nil {
		sess = newSession(st, now)
		st.sess.Store(sess)
		s.sessions.Add(1)
		s.wheelMu.Lock()
		s.wheel.Cancel(&st.ttlTimer)
		s.wheel.Schedule(&st.tickTimer, now.Add(s.cfg.Tick))
		s.wheelMu.Unlock()
		s.submit(sess) // the burst, rendered on attach rather than at the next tick
		return views, refs, true
	}
	// Join at a frame boundary.
	playing := framePlaying(sess.elapsed(now), sess.rate, sess.frameSamples)
	for _, b := range st.ring {
		if last := b.first + int64(len(b.ends)) - 1; last < playing {
			continue
		}
		off := 0
		if k := playing - b.first; k > 0 {
			off = int(b.ends[k-1])
		}
		b.refs.Add(1)
		refs = append(refs, b)
		views = append(views, b.buf.B[off:])
	}
	return views, refs, true
}

// detach removes l from st. The last listener's departure cancels the render
// session at once (a job in flight stops before its next frame), takes the
// stream off the tick schedule and starts its time-to-live.
// Loop goroutine of l only.
func (st *Stream) detach(l *listener, now time.Time) {
	s := st.srv
	st.mu.Lock()
	defer st.mu.Unlock()
	set := l.set
	last := len(set.list) - 1
	moved := set.list[last]
	set.list[l.idx], moved.idx = moved, l.idx
	set.list[last] = nil
	set.list = set.list[:last]
	set.n--
	l.closed = true
	if st.n.Add(-1) > 0 {
		return
	}
	if sess := st.sess.Swap(nil); sess != nil {
		sess.Cancel()
		s.sessions.Add(-1)
	}
	for i, b := range st.ring {
		b.release()
		st.ring[i] = nil
	}
	st.ring = st.ring[:0]
	s.wheelMu.Lock()
	s.wheel.Cancel(&st.tickTimer)
	if !st.removed {
		s.wheel.Schedule(&st.ttlTimer, now.Add(s.cfg.StreamTTL))
	}
	s.wheelMu.Unlock()
}

// expire removes st from the registry if it still has no listener. Called by
// the housekeeping goroutine when the stream's time-to-live ran out, without
// wheelMu held.
func (st *Stream) expire() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.n.Load() > 0 || st.removed {
		return
	}
	st.removed = true
	st.srv.reg.Remove(st)
	st.srv.log.Debug("stream expired", "id", st.id)
}

// publish appends b to the ring and hands it to every event loop that has a
// listener of st. The caller's reference to b passes to publish.
// Worker goroutine (the session's job) only.
func (st *Stream) publish(sess *session, b *batch) {
	s := st.srv
	st.mu.Lock()
	if st.sess.Load() != sess { // the session ended while this batch rendered
		st.mu.Unlock()
		b.release()
		return
	}
	st.seq++
	b.seq = st.seq
	// Keep what a joiner may still need: batches not yet entirely played.
	playing := framePlaying(sess.elapsed(time.Now()), sess.rate, sess.frameSamples)
	drop := 0
	for _, old := range st.ring {
		if old.first+int64(len(old.ends))-1 >= playing {
			break
		}
		old.release()
		drop++
	}
	if drop > 0 {
		n := copy(st.ring, st.ring[drop:])
		clear(st.ring[n:])
		st.ring = st.ring[:n]
	}
	b.refs.Add(1)
	st.ring = append(st.ring, b)
	targets := sess.targets[:0]
	for _, set := range st.sets {
		if set != nil && set.n > 0 {
			b.refs.Add(1)
			targets = append(targets, set)
		}
	}
	st.mu.Unlock()
	for _, set := range targets {
		if err := set.el.Execute(bgCtx, deliverTask{s: s, set: set, b: b}); err != nil {
			b.release() // the engine is shutting down
		}
	}
	clear(targets)
	sess.targets = targets[:0]
	b.release()
}
