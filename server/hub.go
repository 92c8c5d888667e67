package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/synthcast/synthcast/loop"
	"github.com/synthcast/synthcast/render"
	"github.com/synthcast/synthcast/store"
)

// Errors of the hub's methods, for the transport to map to statuses.
var (
	ErrStreamLimit   = errors.New("server: stream limit reached")
	ErrListenerLimit = errors.New("server: listener limit reached")
	ErrUnknownStream = errors.New("server: unknown stream")
)

// hub owns the streams: the live table, the timing wheel that paces and
// expires them, the render pool, the store that keeps them, the clock and
// the counters. The transport calls a handful of methods (create, lookup,
// apply, attach, detach) and advance from its housekeeping tick; the hub
// never sees a request and never parses one.
//
// Locks, in the order they may be taken: a Stream's mu, then wheelMu; mu
// (the table) is never held while either is taken.
type hub struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	store store.Store

	mu      sync.RWMutex
	streams map[string]*Stream // by control token
	listen  map[string]*Stream // by listen token
	// stored counts the streams stored or being created: the MaxStreams cap
	// counts what is on disk, not only what the table shows.
	stored atomic.Int64

	// wheelMu guards wheel and due.
	wheelMu sync.Mutex
	wheel   *loop.Wheel
	due     []dueStream // streams whose timers fired in one advance

	pool   *loop.Pool
	sndbuf int // SO_SNDBUF of listener sockets

	advanced    atomic.Int64 // unix ns of the last advance: the wheel is alive
	m           *Metrics
	listeners   atomic.Int64 // attached /stream listeners
	sessions    atomic.Int64 // streams rendering now (with at least one listener)
	queuedTotal atomic.Int64 // bytes queued to all listeners, as last measured
	inflight    atomic.Int64 // changes handed to the store, not yet reported
	subs        subscribers  // /events connections
	shared      *shared      // set when the store is shared by a cluster
	node        string       // Config.NodeName, or the bound address; set before serving
}

// dueStream is a stream timer that fired: its tick or its time-to-live.
type dueStream struct {
	st   *Stream
	at   time.Time // the timer's deadline
	tick bool
}

// wheelResolution and wheelSlots shape the hub's timing wheel: 10 ms slots
// are fine enough to spread stream renders over a 500 ms tick, and 1024 of
// them cover ten seconds per revolution.
const (
	wheelResolution = 10 * time.Millisecond
	wheelSlots      = 1024

	// poolQueue bounds the render jobs waiting for a worker: each stream has at
	// most one queued, so this is the number of streams that can be due at
	// once before ticks are skipped (and caught up by the next).
	poolQueue = 4096
)

// newHub returns a hub over cfg (with defaults applied) and cfg.Store.
func newHub(cfg Config) *hub {
	h := &hub{
		cfg:     cfg,
		log:     cfg.Logger,
		now:     cfg.Clock,
		store:   cfg.Store,
		m:       cfg.Metrics,
		streams: make(map[string]*Stream),
		listen:  make(map[string]*Stream),
		pool:    loop.NewPool(cfg.Workers, poolQueue),
		sndbuf:  min(max(cfg.QueueBytes/4, 16<<10), 256<<10),
	}
	h.wheel = loop.NewWheel(h.now(), wheelResolution, wheelSlots)
	h.pool.SetPanicFunc(func(_ loop.Job, v any, stack []byte) {
		h.log.Error("a render job panicked; its stream goes on at the next tick", "panic", fmt.Sprint(v), "stack", string(stack))
	})
	return h
}

// close stops the render pool. Loop and worker goroutines must be done.
func (h *hub) close() { h.pool.Close() }

// lookup returns the stream with control or listen token id, or nil, and
// whether id is its control token. It does not retain id. Safe from any
// goroutine.
func (h *hub) lookup(id []byte) (st *Stream, control bool) {
	h.mu.RLock()
	switch len(id) {
	case tokenLen:
		st, control = h.streams[string(id)], true // no allocation: a map index converts in place
	case listenLen:
		st = h.listen[string(id)]
	}
	h.mu.RUnlock()
	return st, control
}

// remove takes st, marked removed, out of the table. Any goroutine.
func (h *hub) remove(st *Stream) {
	h.mu.Lock()
	if h.streams[st.id] == st {
		delete(h.streams, st.id)
		delete(h.listen, st.listenID)
		h.stored.Add(-1)
	}
	h.mu.Unlock()
}

// insert puts st in the table under both its tokens. Called with mu held.
func (h *hub) insert(st *Stream) {
	h.streams[st.id] = st
	h.listen[st.listenID] = st
}

// streamCount is the number of streams stored (or being created).
func (h *hub) streamCount() int { return int(h.stored.Load()) }

// A change is one write of a stream's record made for a request (a create or
// an apply): the hub hands it to the store, applies it to the live stream
// once the store has it, and then reports. The transport owns a change per
// connection and reuses it; one is in flight at a time.
type change struct {
	op     store.Op
	st     *Stream
	params render.Params
	heard  int64  // the record's heard clock, unix ns
	gen    uint64 // the stream's write generation it was computed in
	create bool

	// Err is the outcome: nil once durable and applied, else why not (the
	// stream keeps its previous state).
	Err error
	// done reports a change that completed after the hub's call returned;
	// from the store's goroutine. A change that completed within the call
	// reports by the call's result instead.
	done func(*change)
	// inCall is set while the hub's call runs; whichever of the call and the
	// store's callback clears it decides who reports.
	inCall atomic.Bool
	buf    []byte // record bytes, reused
}

// submit writes ch.op to the store. It reports whether ch completed before it
// returned (the memory store completes at once): then the caller reads
// ch.Err, else ch.done is called later.
func (h *hub) submit(ch *change) (completed bool) {
	if ch.op.Done == nil {
		ch.op.Done = func(*store.Op) { h.committed(ch) }
	}
	ch.inCall.Store(true)
	h.inflight.Add(1)
	h.store.Write(&ch.op)
	return !ch.inCall.CompareAndSwap(true, false)
}

// committed handles the store's report on ch. Any goroutine.
func (h *hub) committed(ch *change) {
	defer h.inflight.Add(-1)
	st := ch.st
	err := ch.op.Err
	switch {
	case ch.create && err == nil:
		st.mu.Lock()
		st.version, st.pendVer = 1, 1
		st.mu.Unlock()
		h.mu.Lock()
		h.insert(st)
		h.mu.Unlock()
		h.scheduleTTL(st, time.Unix(0, ch.heard))
	case ch.create:
		h.stored.Add(-1)
	default:
		if st.settle(ch, err) {
			st.notify(&ch.params)
		}
	}
	if err != nil {
		ch.Err = fmt.Errorf("server: storing stream %s: %w", st.id, err)
	} else {
		ch.Err = nil
	}
	if ch.inCall.CompareAndSwap(true, false) {
		return // the call that submitted ch reports it
	}
	if ch.done != nil {
		ch.done(ch)
	}
}

// create makes a stream with parameters p and stores it. It returns
// ErrStreamLimit at once when MaxStreams streams are stored; otherwise it
// reports as submit does, and on success ch.st is the new stream, in the
// table and durable. Any goroutine.
func (h *hub) create(name string, p render.Params, ch *change) (completed bool, err error) {
	if h.stored.Add(1) > int64(h.cfg.MaxStreams) {
		h.stored.Add(-1)
		return false, ErrStreamLimit
	}
	now := h.now()
	id := newToken()
	st := h.newStream(id, newListenToken(id), name, now.UnixNano(), p)
	st.heard, st.pendHeard = now.UnixNano(), now.UnixNano() // its TTL runs from its creation
	st.heardAt.Store(now.UnixNano())
	ch.st, ch.params, ch.heard, ch.gen, ch.create, ch.Err = st, p, now.UnixNano(), 0, true, nil
	ch.buf = appendRecord(ch.buf[:0], st.epoch, ch.heard, st.listenID, name, &p)
	ch.op.Key, ch.op.Value, ch.op.Version, ch.op.Delete = st.id, ch.buf, 1, false
	return h.submit(ch), nil
}

// apply changes st's parameters by pairs, all or none, and stores the
// result. A bad pair fails at once with the *render.ParamError and changes
// nothing; a change that alters nothing completes at once; otherwise it
// reports as submit does, and on success st plays the new parameters from
// its next rendered frame. ErrUnknownStream: st was removed. Any goroutine.
func (h *hub) apply(st *Stream, pairs []render.Pair, ch *change) (completed bool, err error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	if st.removed {
		st.mu.Unlock()
		return false, ErrUnknownStream
	}
	base := st.pend
	p, err := base.With(pairs, false)
	if err != nil {
		st.mu.Unlock()
		return false, err
	}
	if p == base && st.pendVer == st.version {
		st.mu.Unlock()
		ch.st, ch.params, ch.Err = st, p, nil
		return true, nil
	}
	// A new tempo takes over where the change is first rendered, so the
	// melody's position on the timeline stays continuous.
	p = p.Retimed(&base, st.frameAt(h.now().Add(h.cfg.Prebuffer+h.cfg.Tick)))
	st.pend = p
	h.prepare(st, ch, p, st.pendHeard)
	st.mu.Unlock()
	return h.submit(ch), nil
}

// prepare makes ch the write of st's next version, with parameters p and
// heard clock heard. Called with st.wmu and st.mu held.
func (h *hub) prepare(st *Stream, ch *change, p render.Params, heard int64) {
	st.pendVer++
	ch.st, ch.params, ch.heard, ch.gen, ch.create, ch.Err = st, p, heard, st.gen, false, nil
	ch.buf = appendRecord(ch.buf[:0], st.epoch, heard, st.listenID, st.name, &p)
	ch.op.Key, ch.op.Value, ch.op.Version, ch.op.Delete = st.id, ch.buf, st.pendVer, false
}

// A stream's record keeps when it was last heard: when a listener of it
// came or went on some node, and, while any node has listeners, renewed by
// that node every renewEvery. Every node expires a stream StreamTTL after
// it was last heard anywhere, so a stream listened to on any node is never
// expired, and one whose node died with its listeners expires in time.

// renewEvery is how often a node with listeners of a stream stores that it
// was heard: a quarter of StreamTTL, within [1 s, 1 min], so a renewal is
// always in the store well before the others' TTL runs out, at a write per
// listened stream per minute at most.
func (h *hub) renewEvery() time.Duration {
	return min(max(h.cfg.StreamTTL/4, time.Second), time.Minute)
}

// touch stores that st is heard now: always when force is set (its first
// listener here came, or its last went), else only if its listeners here
// keep it heard and the last store of that is renewEvery old. Not with
// st.mu held (a store may report at once, and the report takes mu).
func (h *hub) touch(st *Stream, force bool) {
	now := h.now().UnixNano()
	if !force && now-st.heardAt.Load() < int64(h.renewEvery()) {
		return // the common case, every tick: no lock
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	if st.removed || !force && (st.n.Load() == 0 || now-st.pendHeard < int64(h.renewEvery())) {
		st.mu.Unlock()
		return
	}
	st.pendHeard = now
	st.heardAt.Store(now)
	ch := &change{done: h.touched}
	h.prepare(st, ch, st.pend, now)
	st.mu.Unlock()
	if h.submit(ch) {
		h.touched(ch)
	}
}

// touched handles the end of a touch. With a shared store a version
// conflict means another node wrote the stream meanwhile: it is re-read and
// the touch made again on top. Another failure is logged: the idle clock in
// the store is older than it should be, which at worst expires the stream
// early after a restart.
func (h *hub) touched(ch *change) {
	switch {
	case ch.Err == nil:
	case errors.Is(ch.Err, store.ErrVersion) && h.shared != nil:
		st := ch.st
		go func() {
			if err := h.refreshKey(context.Background(), st.id); err == nil {
				h.touch(st, true)
			}
		}()
	default:
		h.log.Warn("storing when a stream was last heard", "err", ch.Err)
	}
}

// advance runs the timers due at now: stream ticks submit render jobs, and
// streams whose time-to-live ran out are removed. The transport's
// housekeeping tick calls it; tests call it with synthetic time.
func (h *hub) advance(now time.Time) {
	defer h.advanced.Store(now.UnixNano()) // after the timers ran: a wedged one stops it
	h.wheelMu.Lock()
	h.wheel.Advance(now, h.fire)
	due := h.due
	h.due = h.due[:0]
	h.wheelMu.Unlock()
	h.ping(now)
	for i, d := range due {
		if d.tick {
			if se := d.st.sess.Load(); se != nil {
				h.submitJob(se, d.at)
			}
			h.touch(d.st, false) // renews the heard clock every renewEvery
		} else {
			h.expire(d.st)
		}
		due[i] = dueStream{}
	}
}

// untilDue is how long the housekeeping may sleep after an advance at now:
// until the end of the wheelResolution interval (of unix time) in which the
// next stream timer falls due, at most limit and at least minSleep. Timers
// due in one interval fire in one advance, so streams whose ticks fall
// within 10 ms of each other are handed to the workers, and their frames to
// the event loops, together: one wake-up of each instead of one per stream
// (waking at each deadline exactly measured about 3% more CPU at 1,000
// listeners on 10 streams). A timer fires at most one resolution late, as
// when the wheel was advanced every resolution. Any goroutine.
func (h *hub) untilDue(now time.Time, limit time.Duration) time.Duration {
	h.wheelMu.Lock()
	d := h.wheel.Until(now, limit)
	h.wheelMu.Unlock()
	if d < limit {
		end := now.Add(d).Truncate(wheelResolution).Add(wheelResolution)
		d = min(end.Sub(now), limit)
	}
	return max(d, minSleep)
}

// minSleep is the least the housekeeping sleeps: a timer due at once (one
// scheduled during the advance with a deadline already past) fires a
// millisecond later rather than in a busy loop.
const minSleep = time.Millisecond

// fire collects one due stream timer. Called with wheelMu held.
func (h *hub) fire(t *loop.Timer) {
	st := t.Value.(*Stream)
	tick := t == &st.tickTimer
	at := t.Deadline()
	if tick {
		// Periodic: the next tick keeps the stream's phase in the period,
		// so streams stay spread over the slots they started in.
		h.wheel.Schedule(t, loop.NextPeriod(t.Deadline(), h.now(), h.cfg.Tick))
	}
	h.due = append(h.due, dueStream{st: st, at: at, tick: tick})
}

// A stream's two timers live in the hub's wheel, scheduled only here and
// fired by fire: its tick while a session renders it, its time-to-live
// while nobody listens.

// startTicks moves st from its time-to-live to ticks from now: its first
// listener arrived. Called with st.mu held.
func (h *hub) startTicks(st *Stream, now time.Time) {
	h.wheelMu.Lock()
	h.wheel.Cancel(&st.ttlTimer)
	h.wheel.Schedule(&st.tickTimer, now.Add(h.cfg.Tick))
	h.wheelMu.Unlock()
}

// stopTicks moves st from ticks to its time-to-live from now: its last
// listener left. Called with st.mu held.
func (h *hub) stopTicks(st *Stream, now time.Time) {
	h.wheelMu.Lock()
	h.wheel.Cancel(&st.tickTimer)
	if !st.removed {
		h.wheel.Schedule(&st.ttlTimer, now.Add(h.cfg.StreamTTL))
	}
	h.wheelMu.Unlock()
}

// scheduleTTL starts st's time-to-live from when it was last heard, unless a
// listener is attached: a stream created, or loaded at start.
func (h *hub) scheduleTTL(st *Stream, heard time.Time) {
	h.wheelMu.Lock()
	if st.n.Load() == 0 && !st.tickTimer.Scheduled() {
		h.wheel.Schedule(&st.ttlTimer, heard.Add(h.cfg.StreamTTL))
	}
	h.wheelMu.Unlock()
}

// expire removes st, in the store too, if it still has no listener here and
// its record says none anywhere. The delete names the version it was
// decided on: if another node changed the stream meanwhile, the delete
// fails and the stream is re-read instead.
func (h *hub) expire(st *Stream) {
	st.mu.Lock()
	if st.n.Load() > 0 || st.removed {
		st.mu.Unlock()
		return
	}
	if heard := time.Unix(0, st.heard); h.now().Sub(heard) < h.cfg.StreamTTL { // heard since, on another node
		st.mu.Unlock()
		h.scheduleRemoteTTL(st, st.heard)
		return
	}
	version := st.version
	st.removed = true
	st.mu.Unlock()
	h.remove(st)
	h.store.Write(&store.Op{Key: st.id, Delete: true, Version: version, Done: h.deleted})
	h.log.Debug("stream expired", "id", st.id)
}

// deleted handles the end of an expiry's delete. On a version conflict
// another node changed the stream: it is re-read (and held again). Another
// failure leaves the record in the store, and the next start (or the next
// node to hold it) drops it, its time-to-live having passed.
func (h *hub) deleted(op *store.Op) {
	switch {
	case op.Err == nil:
	case errors.Is(op.Err, store.ErrVersion) && h.shared != nil:
		h.remoteChanged(op.Key)
	default:
		h.log.Warn("deleting an expired stream", "err", op.Err)
	}
}

// submitJob queues a session's job unless one is queued or running already
// (a slow job is caught up by the next tick, never run twice at once).
func (h *hub) submitJob(se *session, due time.Time) {
	if se.Cancelled() || !se.running.CompareAndSwap(false, true) {
		return
	}
	se.due.Store(due.UnixNano())
	if err := h.pool.Submit(se); err != nil {
		se.running.Store(false)
		h.m.ticksSkipped.Inc()
	}
}

// load fills the table from the store: every stream whose time-to-live has
// not run out, with the parameters and timeline it had; expired ones are
// deleted. A record that does not decode stops the start (never an empty
// start over data that is there). Before the transport starts.
func (h *hub) load() (loaded, expired int, err error) {
	now := h.now()
	type deadRecord struct {
		key     string
		version uint64
	}
	var dead []deadRecord
	var rewrite []string
	err = h.store.Load(func(rec store.Record) error {
		r, err := parseRecord(rec.Value)
		if err != nil {
			return fmt.Errorf("stream %q: %w", rec.Key, err)
		}
		if len(rec.Key) != tokenLen {
			return fmt.Errorf("stream %q: %w: not a token", rec.Key, errBadRecord)
		}
		heard := r.heard
		if heard == 0 { // a format-1 or -2 record: 0 meant listened to when the process stopped
			heard = now.UnixNano()
		}
		if now.Sub(time.Unix(0, heard)) >= h.cfg.StreamTTL {
			dead = append(dead, deadRecord{rec.Key, rec.Version})
			return nil
		}
		listenID := r.listenID
		if listenID != "" && listenID[:routeKeyLen] != rec.Key[:routeKeyLen] {
			return fmt.Errorf("stream %q: %w: its listen token has another routing key", rec.Key, errBadRecord)
		}
		if listenID == "" { // an older record: the stream gets its listen token now
			listenID = newListenToken(rec.Key)
			rewrite = append(rewrite, rec.Key)
		}
		st := h.newStream(rec.Key, listenID, r.name, r.epoch, r.params)
		st.version, st.pendVer, st.pendHeard, st.heard = rec.Version, rec.Version, heard, heard
		st.heardAt.Store(heard)
		h.insert(st)
		h.stored.Add(1)
		h.scheduleTTL(st, time.Unix(0, heard))
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("server: loading streams: %w", err)
	}
	for _, k := range dead {
		h.store.Write(&store.Op{Key: k.key, Delete: true, Version: k.version, Done: h.deleted})
	}
	for _, k := range rewrite {
		st := h.streams[k]
		st.wmu.Lock()
		st.mu.Lock()
		ch := &change{done: h.touched}
		h.prepare(st, ch, st.pend, st.pendHeard)
		st.mu.Unlock()
		if h.submit(ch) {
			h.touched(ch)
		}
		st.wmu.Unlock()
	}
	return len(h.streams), len(dead), nil
}
