package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/synthcast/synthcast/store"
)

// A shared store (Redis) is written by every node of a cluster. The hub
// then keeps its table in step with the store:
//
//   - a request for a stream the node does not hold loads it first (fetch):
//     the connection waits, unread, and the request is routed again;
//   - the store reports every change by any node (Watch); the hub re-reads
//     those records off the callback (refresher) and applies them: a change
//     made on another node is rendered here from the next frame, a stream
//     created elsewhere is held here too, one deleted elsewhere goes;
//   - pub/sub delivers at most once, so after every (re)subscription the
//     hub re-reads everything (resync): nothing missed stays missed.
//
// Expiry stays safe with several nodes: a node with listeners renews the
// record's heard clock (see touch), a node expires a stream only StreamTTL
// after it was last heard anywhere, and a delete names the version it was
// decided on, so a node that saw an old record cannot delete a stream
// another node has just renewed.

// maxFetches bounds the loads of unknown tokens in flight: a flood of random
// tokens costs at most this many round trips at once (then 503).
const maxFetches = 256

// errFetchBusy is returned by fetch when maxFetches loads are in flight.
var errFetchBusy = errors.New("server: too many stream loads in flight")

// shared is the hub's cluster state; nil fields mean a store of one node.
type shared struct {
	sh      store.Shared
	fetches chan struct{} // semaphore of maxFetches

	mu   sync.Mutex
	keys map[string]struct{} // records to re-read; mu
	all  bool                // re-read everything; mu
	wake chan struct{}       // cap 1: the refresher has work
}

// startShared starts following a shared store: the watcher and the
// refresher, until ctx ends. A store of one node does nothing.
func (h *hub) startShared(ctx context.Context) {
	sh, ok := h.store.(store.Shared)
	if !ok {
		return
	}
	h.shared = &shared{
		sh:      sh,
		fetches: make(chan struct{}, maxFetches),
		keys:    make(map[string]struct{}),
		wake:    make(chan struct{}, 1),
	}
	go h.watch(ctx)
	go h.refresher(ctx)
}

// watch runs the store's Watch until ctx ends, starting it again after an
// error (a second later).
func (h *hub) watch(ctx context.Context) {
	s := h.shared
	for ctx.Err() == nil {
		err := s.sh.Watch(ctx, h.remoteChanged, h.resync)
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return
		}
		h.log.Warn("watching the store for changes; trying again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// remoteChanged queues key to be re-read. The watcher's goroutine.
func (h *hub) remoteChanged(key string) {
	s := h.shared
	s.mu.Lock()
	s.keys[key] = struct{}{}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// resync queues a re-read of everything. The watcher's goroutine.
func (h *hub) resync() {
	s := h.shared
	s.mu.Lock()
	s.all = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// refresher re-reads what the watcher queued, until ctx ends.
func (h *hub) refresher(ctx context.Context) {
	s := h.shared
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		s.mu.Lock()
		keys, all := s.keys, s.all
		s.keys, s.all = make(map[string]struct{}), false
		s.mu.Unlock()
		if all {
			if err := h.reloadAll(); err != nil {
				h.log.Warn("re-reading the streams after a resubscription; will retry", "err", err)
				h.resync() // the store is down: the next subscription retries too
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
			continue
		}
		for key := range keys {
			if err := h.refreshKey(ctx, key); err != nil {
				h.log.Warn("re-reading a changed stream", "err", err)
			}
		}
	}
}

// refreshKey re-reads the record of key and applies it.
func (h *hub) refreshKey(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rec, err := h.shared.sh.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		h.remoteDeleted(key)
		return nil
	}
	if err != nil {
		return err
	}
	return h.applyRecord(rec)
}

// reloadAll re-reads every record: new streams are held, changed ones
// updated, those gone from the store dropped.
func (h *hub) reloadAll() error {
	seen := make(map[string]struct{})
	err := h.store.Load(func(rec store.Record) error {
		seen[rec.Key] = struct{}{}
		if err := h.applyRecord(rec); err != nil {
			h.log.Warn("a stream's record", "err", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	h.mu.RLock()
	var gone []string
	for id := range h.streams {
		if _, ok := seen[id]; !ok {
			gone = append(gone, id)
		}
	}
	h.mu.RUnlock()
	for _, id := range gone {
		h.remoteDeleted(id)
	}
	return nil
}

// applyRecord brings the table in step with rec, a record another node may
// have written: a stream not held is held from now on; a held one takes a
// newer version's parameters (rendered from its next frame), heard clock
// and time-to-live. Any goroutine.
func (h *hub) applyRecord(rec store.Record) error {
	r, err := parseRecord(rec.Value)
	if err != nil {
		return err
	}
	if len(rec.Key) != tokenLen || r.listenID == "" || r.listenID[:routeKeyLen] != rec.Key[:routeKeyLen] {
		return errBadRecord
	}
	st, _ := h.lookup([]byte(rec.Key))
	if st == nil {
		st = h.newStream(rec.Key, r.listenID, r.name, r.epoch, r.params)
		st.version, st.pendVer, st.heard, st.pendHeard = rec.Version, rec.Version, r.heard, r.heard
		h.mu.Lock()
		if h.streams[rec.Key] != nil { // held meanwhile: update that one
			st = h.streams[rec.Key]
			h.mu.Unlock()
		} else {
			h.insert(st)
			h.mu.Unlock()
			h.stored.Add(1)
			h.scheduleRemoteTTL(st, r.heard)
			return nil
		}
	}
	st.mu.Lock()
	if rec.Version <= st.version || st.removed {
		st.mu.Unlock()
		return nil
	}
	old := st.params.Load()
	p := r.params
	st.version, st.heard = rec.Version, r.heard
	st.params.Store(&p)
	changed := p != *old
	if changed {
		st.title.Store(newICYBlock(appendTitle(nil, st.name, &p)))
	}
	if st.pendVer < rec.Version { // writes of ours in flight were built on an older record: they fail
		st.gen++
		st.pendVer, st.pend, st.pendHeard = rec.Version, p, r.heard
		st.heardAt.Store(r.heard)
	}
	st.mu.Unlock()
	if changed {
		st.notify(&p)
	}
	h.scheduleRemoteTTL(st, r.heard)
	return nil
}

// scheduleRemoteTTL restarts st's time-to-live from when its record says
// it was last heard (now, for a record of an old format that says 0).
func (h *hub) scheduleRemoteTTL(st *Stream, heard int64) {
	if st.n.Load() > 0 {
		return
	}
	at := h.now()
	if heard != 0 {
		at = time.Unix(0, heard)
	}
	h.wheelMu.Lock()
	if st.n.Load() == 0 && !st.tickTimer.Scheduled() {
		h.wheel.Schedule(&st.ttlTimer, at.Add(h.cfg.StreamTTL))
	}
	h.wheelMu.Unlock()
}

// remoteDeleted drops a stream another node deleted, unless listeners here
// still play it (they keep it until they leave).
func (h *hub) remoteDeleted(id string) {
	st, _ := h.lookup([]byte(id))
	if st == nil {
		return
	}
	st.mu.Lock()
	if st.n.Load() > 0 || st.removed {
		st.mu.Unlock()
		return
	}
	st.removed = true
	st.mu.Unlock()
	h.remove(st)
}

// fetch loads the stream of control token id from the shared store, then
// calls done, from another goroutine. (A listen token is not fetched: the
// store is keyed by control token, and every node holds every stream it has
// heard of, so one not held is unknown or a few milliseconds old.)
func (h *hub) fetch(id []byte, done func()) error {
	s := h.shared
	select {
	case s.fetches <- struct{}{}:
	default:
		return errFetchBusy
	}
	key := string(id)
	go func() {
		defer func() { <-s.fetches; done() }()
		if err := h.refreshKey(context.Background(), key); err != nil {
			h.log.Warn("loading a stream from the store", "err", err)
		}
	}()
	return nil
}

// canFetch reports whether a miss on token id is worth a load.
func (h *hub) canFetch(id []byte) bool { return h.shared != nil && len(id) == tokenLen }
