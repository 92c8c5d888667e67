package server

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/synthcast/synthcast/httpparse"
	"github.com/synthcast/synthcast/loop"
	"github.com/synthcast/synthcast/render"
	"github.com/synthcast/synthcast/web"
)

// Connection phases: which timeout applies to a connection now.
const (
	phaseIdle   int32 = iota // between requests: IdleTimeout
	phaseHead                // a request head has begun: HeaderTimeout from its first byte
	phaseStream              // a /stream listener: no read timeout
)

// Bounds on what one connection may make the server hold.
const (
	// maxPendingOut is how much response data a control connection may leave
	// unsent (a client that pipelines requests but never reads) before it is
	// closed. A control response is ~300 bytes: this is thousands of them.
	maxPendingOut = 1 << 20

	// keepOutCap caps the capacity of the reused response buffer kept between
	// events, so one burst of pipelined requests does not pin memory forever.
	keepOutCap = 16 << 10
)

// conn is the server's state of one connection. Fields without a note are
// loop-only: touched only from gnet callbacks on the connection's loop.
type conn struct {
	gc gnet.Conn
	// httpState is the request-handling state, from httpPool; a connection
	// that becomes a listener hands it back, since a listener reads no more
	// requests (it is most of a connection's memory: ~4 KiB).
	*httpState
	parser    *httpparse.Parser // nil while no request is being read
	lis       *listener         // set when the connection became a /stream listener
	sub       *subscriber       // set when the connection became an /events subscriber
	closed    bool              // OnClose has run (gnet closes synchronously when a write fails)
	inTraffic bool              // OnTraffic is running: OnClose must leave httpState to it

	// A create or set_param is answered once the store has it. While one is
	// in flight (wait), the requests after it stay unread in gnet's buffer,
	// so pipelined responses keep their order; the store's callback sets
	// chDone and wakes the connection, and OnTraffic answers and reads on.
	fetching  bool       // wait is for a stream being loaded (shared store), not a change
	fetched   bool       // the request being routed had its stream loaded: a miss now is a 404
	ch        *change    // made at the connection's first such request, reused
	wq        *wakeQueue // its loop's, once a change completed late; the store's callbacks only
	route     int8       // the route of the request being answered, for metrics
	chDone    atomic.Bool
	wait      bool
	waitFlags respFlags
	waitClose bool

	// timer is in the server's wheel from open to close; wheelMu guards it.
	timer loop.Timer
	// phase and deadline are written by the loop and read by the
	// housekeeping goroutine when timer fires. deadline is unix nanoseconds.
	phase    atomic.Int32
	deadline atomic.Int64
}

// httpState is what a connection needs to answer requests: taken from
// httpPool when bytes arrive, given back once they are answered. The
// parser, which must outlive an event while a head is incomplete, is
// pooled apart (parserPool), so a slow client's partial head pins ~1 KiB,
// not the ~4 KiB of a Request.
type httpState struct {
	req      httpparse.Request
	out      []byte        // responses of the current event, written at once
	body     []byte        // scratch for a JSON body
	pairs    []render.Pair // scratch for a request's parameter pairs
	views    [][]byte      // scratch: a listener's head and burst
	icyViews [][]byte      // scratch: the burst cut for ICY metadata
	refs     []*batch      // scratch: the batches views point into
	scratch  []byte        // scratch: a title before it is quoted into body
	control  bool          // the request's id was a control token (lookupStream)
	asset    *web.Asset    // the page's file the request names (router)
}

var (
	httpPool   = sync.Pool{New: func() any { return new(httpState) }}
	parserPool = sync.Pool{New: func() any { return new(httpparse.Parser) }}
)

// leaveTraffic ends an OnTraffic call, releasing the request state of a
// connection that closed during it.
func (c *conn) leaveTraffic() {
	c.inTraffic = false
	if c.closed {
		c.releaseHTTP()
	}
}

// releaseParser returns c's parser to its pool: c has no partial head.
func (c *conn) releaseParser() {
	if c.parser != nil {
		c.parser.Reset()
		parserPool.Put(c.parser)
		c.parser = nil
	}
}

// releaseHTTP returns c's request state, parser included, to the pools.
func (c *conn) releaseHTTP() {
	c.releaseParser()
	c.putState()
}

// putState returns c's request state, not its parser, to the pool.
func (c *conn) putState() {
	h := c.httpState
	if h == nil {
		return
	}
	c.httpState = nil
	h.req.Reset() // drop views into gnet's buffers, keep the scratch
	h.out, h.body = h.out[:0], h.body[:0]
	h.pairs = h.pairs[:0]
	httpPool.Put(h)
}

// setPhase moves c to phase p with the deadline that phase carries from now.
func (s *transport) setPhase(c *conn, p int32, now int64) {
	var d int64
	switch p {
	case phaseIdle:
		d = now + int64(s.cfg.IdleTimeout)
	case phaseHead:
		d = now + int64(s.cfg.HeaderTimeout)
	}
	c.deadline.Store(d)
	c.phase.Store(p)
}

// OnOpen sets up a connection's state and its timeout: the first request's
// head must arrive within HeaderTimeout of the connection's opening.
func (s *transport) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	c := &conn{gc: gc} // request state is taken when bytes arrive
	c.timer.Value = c
	gc.SetContext(c)
	s.conns.Add(1)
	s.m.connsAccepted.Inc()
	now := s.now.Load()
	s.setPhase(c, phaseHead, now)
	s.wheelMu.Lock()
	s.wheel.Schedule(&c.timer, time.Unix(0, c.deadline.Load()))
	s.wheelMu.Unlock()
	return nil, gnet.None
}

// OnClose releases a connection's timer.
func (s *transport) OnClose(gc gnet.Conn, _ error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.None
	}
	c.closed = true
	if c.wait {
		c.wait = false
		s.waiting.Add(-1) // nobody to answer
	}
	if !c.inTraffic {
		// Inside OnTraffic (a write failed), the handler still holds slices
		// of the request state; it releases the state when it returns.
		c.releaseHTTP()
	}
	s.conns.Add(-1)
	if c.lis != nil {
		s.hub.detach(c.lis)
		c.lis = nil
	}
	if c.sub != nil {
		s.hub.unsubscribe(c.sub)
		c.sub = nil
	}
	s.wheelMu.Lock()
	s.wheel.Cancel(&c.timer)
	s.wheelMu.Unlock()
	return gnet.None
}

// fireConn handles a connection's timer. Deadlines move without touching the
// wheel, so a timer that fires early for the current deadline is simply
// rescheduled. Called from OnTick with wheelMu held; touches gc only through
// its concurrency-safe methods.
func (s *transport) fireConn(t *loop.Timer) {
	c := t.Value.(*conn)
	d := c.deadline.Load()
	if d == 0 {
		return // streaming: no read timeout, the timer stays out of the wheel
	}
	if now := s.now.Load(); d > now {
		s.wheel.Schedule(t, time.Unix(0, d))
		return
	}
	if c.phase.Load() == phaseHead {
		// A head that did not arrive in time: say so, then close. AsyncWrite
		// is queued ahead of Close on the loop, so the client sees the 408.
		var buf [256]byte
		b := appendJSONResponse(buf[:0], 408, *s.date.Load(), respClose, []byte(`{"error":"request head not received in time"}`))
		_ = c.gc.AsyncWrite(append([]byte(nil), b...), nil)
		s.m.request(routeOther, 408)
	}
	_ = c.gc.Close()
}

// OnTraffic parses and answers every complete request in the inbound buffer,
// in order, writing all their responses at once; an incomplete one stays in
// gnet's buffer for the next event.
func (s *transport) OnTraffic(gc gnet.Conn) gnet.Action {
	c := gc.Context().(*conn)
	c.inTraffic = true
	defer c.leaveTraffic()
	buf, _ := gc.Peek(-1)
	if c.phase.Load() == phaseStream {
		// A listener has nothing more to say; whatever it sends is dropped.
		_, _ = gc.Discard(-1)
		return gnet.None
	}
	if c.httpState == nil {
		c.httpState = httpPool.Get().(*httpState)
	}
	if c.parser == nil {
		c.parser = parserPool.Get().(*httpparse.Parser)
	}
	out := c.out[:0]
	if c.wait {
		if !c.chDone.Load() {
			return gnet.None // more requests arrived behind one in flight: they wait
		}
		if !c.fetching {
			out = s.answerChange(c, out, c.waitFlags)
			s.countResponse(c, int(c.route), out, 0)
		}
		c.wait, c.fetching = false, false // a fetch's request is still unread: it is routed again below
		c.chDone.Store(false)
		s.waiting.Add(-1)
		if c.waitClose {
			_, _ = gc.Write(out)
			c.out = out[:0]
			return gnet.Close
		}
	}
	now := s.now.Load()
	if c.phase.Load() == phaseIdle && len(buf) > 0 {
		s.setPhase(c, phaseHead, now)
	}
	consumed := 0
	action := gnet.None
	for consumed < len(buf) {
		n, err := c.parser.Parse(buf[consumed:], &c.req)
		if errors.Is(err, httpparse.ErrNeedMore) {
			break
		}
		if err != nil {
			mark := len(out)
			out = s.appendParseError(out, err)
			s.countResponse(c, routeOther, out, mark)
			consumed = len(buf)
			action = gnet.Close
			break
		}
		consumed += n
		var closeAfter bool
		out, closeAfter = s.route(c, out)
		if c.closed {
			return gnet.None // a write inside route failed: gc and c's request state are gone
		}
		if c.fetching {
			// The stream is being loaded from the shared store: the request
			// stays unread and is routed again once it is.
			consumed -= n
			s.setPhase(c, phaseIdle, now)
			break
		}
		c.fetched = false
		if c.wait {
			// Answered when the store has it; what follows is read then.
			c.waitClose = closeAfter
			s.setPhase(c, phaseIdle, now)
			break
		}
		if closeAfter {
			consumed = len(buf) // nothing after a closing request is read
			action = gnet.Close
			break
		}
		if c.phase.Load() == phaseStream {
			consumed = len(buf)
			break
		}
		if consumed < len(buf) {
			s.setPhase(c, phaseHead, now) // the next pipelined request has begun
		} else {
			s.setPhase(c, phaseIdle, now)
		}
	}
	if consumed > 0 { // gnet's Discard(0) discards everything
		_, _ = gc.Discard(consumed)
	}
	if len(out) > 0 {
		_, _ = gc.Write(out)
	}
	if cap(out) > keepOutCap {
		out = nil
	}
	c.out = out[:0]
	switch {
	case c.lis != nil || c.sub != nil || !c.wait && consumed == len(buf) && action == gnet.None:
		// A listener reads no more requests; a connection with no partial
		// request and no answer pending needs no request state until its
		// next bytes: an idle keep-alive connection holds only its conn.
		c.releaseHTTP()
	case !c.wait && action == gnet.None:
		// A partial head waits for its end: only the parser stays.
		c.putState()
	}
	if action == gnet.None && gc.OutboundBuffered() > maxPendingOut {
		s.log.Warn("closing a connection that does not read its responses", "remote", gc.RemoteAddr().String())
		return gnet.Close
	}
	return action
}

// appendParseError appends the response for a request the parser rejected.
// The connection is closed after it.
func (s *transport) appendParseError(out []byte, err error) []byte {
	status, msg := 400, "malformed request"
	var pe *httpparse.Error
	if errors.As(err, &pe) {
		status, msg = pe.Status, pe.Msg
	}
	return s.appendError(out, status, respClose, msg)
}

// appendError appends a JSON error response {"error": msg}.
func (s *transport) appendError(out []byte, status int, flags respFlags, msg string) []byte {
	var b [256]byte
	body := append(b[:0], `{"error":`...)
	body = appendJSONString(body, msg)
	body = append(body, '}')
	return appendJSONResponse(out, status, *s.date.Load(), flags, body)
}

// countResponse counts the response that route appended to out at mark (a
// wait or a /stream response appends none there, and is counted where it
// is written). Allocation-free.
func (s *transport) countResponse(c *conn, route int, out []byte, mark int) {
	if len(out)-mark < len("HTTP/1.1 200") {
		return
	}
	b := out[mark+9 : mark+12]
	s.answered(c, route, int(b[0]-'0')*100+int(b[1]-'0')*10+int(b[2]-'0'))
}

// answered counts, and logs if the access log is on, one answered request.
// The log names the route, not the path as sent, except for an unknown
// route (its path cut to maxLogPath): a request answered after a wait has
// had its bytes discarded.
func (s *transport) answered(c *conn, route, status int) {
	s.m.request(route, status)
	if s.access == nil {
		return
	}
	method, path := []byte("-"), []byte(routeNames[route])
	if c.wait || c.chDone.Load() { // answered from a wait: the request's bytes are gone
		method = []byte("GET")
		if c.waitFlags&respHead != 0 {
			method = []byte("HEAD")
		}
	} else if c.httpState != nil && len(c.req.RawMethod) > 0 {
		method = c.req.RawMethod
		if route == routeOther {
			path = c.req.Path[:min(len(c.req.Path), maxLogPath)]
		}
	}
	s.access.log(time.Unix(0, s.now.Load()), c.gc.RemoteAddr(), method, path, status)
}

// maxLogPath bounds how much of an unknown path the access log repeats.
const maxLogPath = 64
