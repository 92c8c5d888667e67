package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/synthcast/synthcast/loop"
	"github.com/synthcast/synthcast/render"
)

// Stream is one token's stream: its durable state (parameters, timeline
// epoch, heard clock, record version) and, while listeners are attached, its
// render session, its recent frames and its listeners. The hub owns it.
//
// Locks: mu guards the fields marked so. The hub's wheelMu may be taken
// while mu is held, never the other way round (advance collects due streams
// under wheelMu and handles them after releasing it).
type Stream struct {
	id       string // control token
	listenID string // listen token
	hub      *hub
	name     string // given at creation (icy-name, the title's lead); may be empty
	epoch    int64  // unix ns of the timeline's zero: the stream's creation
	rate     int    // sample rate, Hz (fixed at creation)

	// title is the ICY metadata block of the committed params. Safe from
	// any goroutine.
	title atomic.Pointer[icyBlock]

	// params is the committed snapshot, the one rendered: a change is
	// published here once the store has it. Safe from any goroutine.
	params atomic.Pointer[render.Params]

	sess atomic.Pointer[session] // the render session; nil while no listener
	subs []*subscriber           // /events connections; mu
	n    atomic.Int32            // listeners, readable without mu

	mu      sync.Mutex
	sets    []*loopSet // listeners by event loop index; mu guards the slice, each set's list is loop-only
	ring    []*batch   // recent frames, oldest first, for joining listeners; mu
	seq     uint64     // sequence number of the last published batch; mu
	removed bool       // no longer in the table; mu

	// wmu orders the stream's writes: a version is taken and handed to the
	// store under it, so the store sees them in version order. Taken before
	// mu; never held by the store's callback.
	wmu sync.Mutex

	// The durable record, mu. version and heard are what the store has;
	// pendVer, pend and pendHeard what it will have once the writes in
	// flight commit (equal when none is). heard is the unix ns the stream
	// was last heard (see touch). gen counts the failures that
	// dropped the pending writes: a write of an older generation was built
	// on a failed one and is bound to fail too.
	version   uint64
	heard     int64
	pendVer   uint64
	pend      render.Params
	pendHeard int64
	gen       uint64
	heardAt   atomic.Int64 // pendHeard, readable without mu

	tickTimer loop.Timer // in the wheel while a session runs; wheelMu
	ttlTimer  loop.Timer // in the wheel while no listener is attached; wheelMu
}

// newStream returns a stream of h with control and listen tokens id and
// listenID, name, timeline epoch (unix ns) and parameters p, not yet in the
// table.
func (h *hub) newStream(id, listenID, name string, epoch int64, p render.Params) *Stream {
	st := &Stream{id: id, listenID: listenID, hub: h, name: name, epoch: epoch, rate: p.SampleRate, pend: p}
	st.params.Store(&p)
	st.title.Store(newICYBlock(appendTitle(nil, name, &p)))
	st.tickTimer.Value = st
	st.ttlTimer.Value = st
	return st
}

// frameAt is the timeline frame (sample index at the stream's rate) that
// plays at t. Safe from any goroutine.
func (st *Stream) frameAt(t time.Time) int64 {
	return samplesIn(time.Duration(t.UnixNano()-st.epoch), st.rate)
}

// settle records the store's answer on ch. Success publishes its
// parameters. A failure drops what was pending, so the next change starts
// from what the store has: the store takes a stream's writes in version
// order, so every write before ch has been answered, and every one after
// it, built on it, fails its version check (those are of an older
// generation and change nothing more). Any goroutine; takes mu.
func (st *Stream) settle(ch *change, err error) (changed bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err == nil {
		if v := ch.op.Version; v > st.version {
			st.version, st.heard = v, ch.heard
			old := st.params.Load()
			np := ch.params
			st.params.Store(&np)
			if changed = np != *old; changed {
				st.title.Store(newICYBlock(appendTitle(nil, st.name, &np)))
			}
		}
		return changed
	}
	if ch.gen == st.gen {
		st.gen++
		st.pendVer, st.pend, st.pendHeard = st.version, *st.params.Load(), st.heard
	}
	return false
}

// ID is the stream's token.
func (st *Stream) ID() string { return st.id }

// Params returns the current parameters snapshot. Safe from any goroutine;
// the result must not be modified.
func (st *Stream) Params() *render.Params { return st.params.Load() }

// Listeners is the number of attached listeners. Safe from any goroutine.
func (st *Stream) Listeners() int { return int(st.n.Load()) }

// loopSet is a stream's listeners on one event loop. list and scratch are
// touched only on that loop; n mirrors len(list) under the stream's mu, so a
// worker can tell which loops to deliver to.
type loopSet struct {
	st      *Stream
	el      gnet.EventLoop
	list    []*listener
	scratch []*listener
	views   [][]byte // scratch: one delivery cut for an ICY listener
	icy     int      // listeners in list that take ICY metadata
	n       int      // mu
}

// listener is one /stream connection attached to a stream. Loop-only.
type listener struct {
	icy    icyState
	queued int // bytes it had queued at the last delivery (counted in hub.queuedTotal)
	gc     gnet.Conn
	st     *Stream
	set    *loopSet
	idx    int    // position in set.list
	from   uint64 // first batch sequence number to deliver (earlier ones were in the burst)
	closed bool   // dropped or detached: write nothing more
	// drained: gnet holds none of its bytes (its buffer was seen empty and
	// nothing was written through gnet since), so a delivery may go straight
	// to the socket. False (unknown) until the burst is written.
	drained bool
}

// attach adds l to st and appends the burst to views: the frames from the
// one a real-time player of the session would be playing now to the newest,
// each batch they sit in referenced once more in refs. The caller writes the
// views (after the response head) and then releases refs: writing here,
// under mu, could deadlock, since gnet closes a connection whose write fails
// synchronously, and OnClose detaches. For the first listener of an idle
// stream, attach starts a session at the timeline's position now, whose
// first job, submitted at once, renders the burst, and stores that the
// stream is listened to. ErrUnknownStream: the stream was removed meanwhile;
// ErrListenerLimit: MaxListeners are attached.
// Loop goroutine of l only.
func (h *hub) attach(st *Stream, l *listener, loopIdx int, el gnet.EventLoop, views [][]byte, refs []*batch) (_ [][]byte, _ []*batch, err error) {
	if h.listeners.Add(1) > int64(h.cfg.MaxListeners) {
		h.listeners.Add(-1)
		return views, refs, ErrListenerLimit
	}
	now := h.now()
	st.mu.Lock()
	if st.removed {
		st.mu.Unlock()
		h.listeners.Add(-1)
		return views, refs, ErrUnknownStream
	}
	for len(st.sets) <= loopIdx {
		st.sets = append(st.sets, nil)
	}
	set := st.sets[loopIdx]
	if set == nil {
		set = &loopSet{st: st, el: el}
		st.sets[loopIdx] = set
	}
	l.st, l.set, l.idx = st, set, len(set.list)
	set.list = append(set.list, l)
	set.n++
	if l.icy.on {
		set.icy++
	}
	st.n.Add(1)
	h.m.listenersAttached.Inc()
	l.from = st.seq + 1

	sess := st.sess.Load()
	if sess == nil {
		sess = newSession(st, now)
		st.sess.Store(sess)
		h.sessions.Add(1)
		h.startTicks(st, now)
		st.mu.Unlock()
		h.submitJob(sess, now) // the burst, rendered on attach rather than at the next tick
		h.touch(st, true)
		return views, refs, nil
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
	st.mu.Unlock()
	return views, refs, nil
}

// detach removes l from its stream. The last listener's departure cancels
// the render session at once (a job in flight stops before its next frame),
// takes the stream off the tick schedule, starts its time-to-live and
// stores when it began. Loop goroutine of l only.
func (h *hub) detach(l *listener) {
	st := l.st
	now := h.now()
	h.listeners.Add(-1)
	st.mu.Lock()
	set := l.set
	last := len(set.list) - 1
	moved := set.list[last]
	set.list[l.idx], moved.idx = moved, l.idx
	set.list[last] = nil
	set.list = set.list[:last]
	set.n--
	if l.icy.on {
		set.icy--
	}
	h.queuedTotal.Add(-int64(l.queued))
	l.queued = 0
	l.closed = true
	if st.n.Add(-1) > 0 {
		st.mu.Unlock()
		return
	}
	if sess := st.sess.Swap(nil); sess != nil {
		sess.Cancel()
		h.sessions.Add(-1)
	}
	for i, b := range st.ring {
		b.release()
		st.ring[i] = nil
	}
	st.ring = st.ring[:0]
	h.stopTicks(st, now)
	st.mu.Unlock()
	h.touch(st, true)
}

// publish appends b to the ring and hands it to every event loop that has a
// listener of st. The caller's reference to b passes to publish.
// Worker goroutine (the session's job) only.
func (st *Stream) publish(sess *session, b *batch) {
	h := st.hub
	st.mu.Lock()
	if st.sess.Load() != sess { // the session ended while this batch rendered
		st.mu.Unlock()
		b.release()
		return
	}
	st.seq++
	b.seq = st.seq
	// Keep what a joiner may still need: batches not yet entirely played.
	playing := framePlaying(sess.elapsed(h.now()), sess.rate, sess.frameSamples)
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
		if err := set.el.Execute(bgCtx, deliverTask{h: h, set: set, b: b}); err != nil {
			b.release() // the engine is shutting down
		}
	}
	clear(targets)
	sess.targets = targets[:0]
	b.release()
}
