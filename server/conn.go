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
	lis       *listener // set when the connection became a /stream listener
	closed    bool      // OnClose has run (gnet closes synchronously when a write fails)
	inTraffic bool      // OnTraffic is running: OnClose must leave httpState to it

	// A create or set_param is answered once the store has it. While one is
	// in flight (wait), the requests after it stay unread in gnet's buffer,
	// so pipelined responses keep their order; the store's callback sets
	// chDone and wakes the connection, and OnTraffic answers and reads on.
	ch        *change // made at the connection's first such request, reused
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

// httpState is what a connection needs to read requests and answer them.
type httpState struct {
	parser httpparse.Parser
	req    httpparse.Request
	out    []byte        // responses of the current event, written at once
	body   []byte        // scratch for a JSON body
	pairs  []render.Pair // scratch for a request's parameter pairs
	views  [][]byte      // scratch: a listener's head and burst
	refs   []*batch      // scratch: the batches views point into
}

var httpPool = sync.Pool{New: func() any { return new(httpState) }}

// leaveTraffic ends an OnTraffic call, releasing the request state of a
// connection that closed during it.
func (c *conn) leaveTraffic() {
	c.inTraffic = false
	if c.closed {
		c.releaseHTTP()
	}
}

// releaseHTTP returns c's request state to the pool.
func (c *conn) releaseHTTP() {
	h := c.httpState
	if h == nil {
		return
	}
	c.httpState = nil
	h.parser.Reset()
	h.req = httpparse.Request{} // drop views into gnet's buffers
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
	c := &conn{gc: gc, httpState: httpPool.Get().(*httpState)}
	c.timer.Value = c
	gc.SetContext(c)
	s.conns.Add(1)
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
	out := c.out[:0]
	if c.wait {
		if !c.chDone.Load() {
			return gnet.None // more requests arrived behind one in flight: they wait
		}
		c.wait = false
		c.chDone.Store(false)
		out = s.answerChange(c, out, c.waitFlags)
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
			out = s.appendParseError(out, err)
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
	if c.lis != nil {
		c.releaseHTTP() // a listener reads no more requests
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
