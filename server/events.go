package server

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/synthcast/synthcast/render"
)

// /events?id=TOKEN: Server-Sent Events of a stream's accepted changes, so a
// page follows changes made elsewhere. On connect the subscriber gets one
// event with the current state, then one per change the store has taken
// (which is also when it starts rendering), and a comment every eventPing:
//
//	event: params
//	data: {"params":{…},"title":"…","at":1764190000123}
//
// Subscribers count against MaxListeners, and one that leaves more than
// eventQueueBytes unread is dropped like a slow listener.
const (
	// eventPing keeps proxies and browsers from timing the connection out
	// while nothing changes; 15 s is under every common idle timeout.
	eventPing = 15 * time.Second

	// eventQueueBytes bounds what a subscriber may leave unread: an event
	// is ~400 bytes, so this is some 160 changes it did not read.
	eventQueueBytes = 64 << 10
)

// subscriber is one /events connection.
type subscriber struct {
	h      *hub
	st     *Stream
	gc     gnet.Conn
	closed atomic.Bool
	sent   gnet.AsyncCallback // s.written, bound once
}

// subscribers is the hub's set of /events connections, for the pings.
type subscribers struct {
	mu       sync.Mutex
	set      map[*subscriber]struct{}
	lastPing time.Time
}

var pingEvent = []byte(": ping\n\n")

// subscribe adds sub to st's subscribers. ErrListenerLimit: MaxListeners
// listeners and subscribers are connected; ErrUnknownStream: st is gone.
func (h *hub) subscribe(st *Stream, sub *subscriber) error {
	if h.listeners.Add(1) > int64(h.cfg.MaxListeners) {
		h.listeners.Add(-1)
		return ErrListenerLimit
	}
	sub.h, sub.st = h, st
	sub.sent = sub.written
	st.mu.Lock()
	if st.removed {
		st.mu.Unlock()
		h.listeners.Add(-1)
		return ErrUnknownStream
	}
	st.subs = append(st.subs, sub)
	st.mu.Unlock()
	h.subs.mu.Lock()
	if h.subs.set == nil {
		h.subs.set = make(map[*subscriber]struct{})
	}
	h.subs.set[sub] = struct{}{}
	h.subs.mu.Unlock()
	return nil
}

// unsubscribe removes sub. Its connection's loop, from OnClose.
func (h *hub) unsubscribe(sub *subscriber) {
	if sub.closed.Swap(true) {
		return
	}
	h.listeners.Add(-1)
	st := sub.st
	st.mu.Lock()
	for i, s := range st.subs {
		if s == sub {
			last := len(st.subs) - 1
			st.subs[i] = st.subs[last]
			st.subs[last] = nil
			st.subs = st.subs[:last]
			break
		}
	}
	st.mu.Unlock()
	h.subs.mu.Lock()
	delete(h.subs.set, sub)
	h.subs.mu.Unlock()
}

// appendEvent appends one SSE event with st's state p, title and the time.
func appendEvent(dst []byte, st *Stream, p *render.Params, now time.Time) []byte {
	dst = append(dst, "event: params\ndata: {\"params\":"...)
	dst = p.AppendJSON(dst)
	dst = append(dst, `,"title":`...)
	start := len(dst)
	dst = appendTitle(dst, st.name, p)
	title := string(dst[start:]) // appendJSONString reads its source while it appends
	dst = appendJSONString(dst[:start], title)
	dst = append(dst, `,"at":`...)
	dst = strconv.AppendInt(dst, now.UnixMilli(), 10)
	return append(dst, "}\n\n"...)
}

// notify sends st's subscribers an event for its new state p. Any
// goroutine, without st.mu held; the writes happen on each subscriber's loop.
func (st *Stream) notify(p *render.Params) {
	st.mu.Lock()
	if len(st.subs) == 0 {
		st.mu.Unlock()
		return
	}
	subs := append([]*subscriber(nil), st.subs...)
	st.mu.Unlock()
	ev := appendEvent(nil, st, p, st.hub.now()) // shared by every write: never modified
	for _, sub := range subs {
		if !sub.closed.Load() {
			_ = sub.gc.AsyncWrite(ev, sub.sent)
		}
	}
}

// written runs on the subscriber's loop after each event: one that leaves
// too much unread is dropped.
func (s *subscriber) written(c gnet.Conn, err error) error {
	if err == nil && c.OutboundBuffered() > eventQueueBytes {
		s.h.m.dropped[dropQueue].Inc()
		_ = c.SetLinger(0)
		_ = c.Close()
	}
	return nil
}

// ping sends every subscriber a comment, every eventPing. From advance.
func (h *hub) ping(now time.Time) {
	h.subs.mu.Lock()
	if now.Sub(h.subs.lastPing) < eventPing {
		h.subs.mu.Unlock()
		return
	}
	h.subs.lastPing = now
	subs := make([]*subscriber, 0, len(h.subs.set))
	for sub := range h.subs.set {
		subs = append(subs, sub)
	}
	h.subs.mu.Unlock()
	for _, sub := range subs {
		_ = sub.gc.AsyncWrite(pingEvent, sub.sent)
	}
}

// handleEvents serves /events?id=TOKEN (control or listen token): the SSE
// head, the current state, then events until the client leaves. Like a
// listener, the connection reads no more requests.
func (s *transport) handleEvents(c *conn, out []byte, flags respFlags) ([]byte, bool) {
	st, out, ok := s.lookupStream(c, out, flags)
	if !ok {
		return out, false
	}
	if flags&respHead != 0 {
		return appendEventsHead(out, *s.date.Load()), true
	}
	gc := c.gc
	if len(out) > 0 { // responses to requests pipelined ahead of this one
		_, _ = gc.Write(out)
		out = out[:0]
		if c.closed {
			return out, false
		}
	}
	sub := &subscriber{gc: gc}
	if err := s.hub.subscribe(st, sub); err != nil {
		if err == ErrListenerLimit {
			return s.appendError(out, 503, flags, "listener limit reached"), false
		}
		return s.appendError(out, 404, flags, "unknown stream id"), false
	}
	c.phase.Store(phaseStream)
	c.deadline.Store(0)
	c.sub = sub
	s.answered(c, routeEvents, 200)
	b := appendEventsHead(c.body[:0], *s.date.Load())
	b = appendEvent(b, st, st.Params(), s.hub.now())
	c.body = b
	_, _ = gc.Write(b)
	return out, false
}

// appendEventsHead appends the head of an /events response.
func appendEventsHead(dst, date []byte) []byte {
	dst = append(dst, "HTTP/1.1 200 OK\r\nServer: synthcast\r\nDate: "...)
	dst = append(dst, date...)
	return append(dst, "\r\nContent-Type: text/event-stream\r\n"+
		"Cache-Control: no-cache, no-store\r\n"+
		"Access-Control-Allow-Origin: *\r\n"+
		"X-Accel-Buffering: no\r\n"+ // nginx: pass events through at once
		"Connection: close\r\n\r\n"...)
}
