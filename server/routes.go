package server

import (
	"errors"
	"time"

	"github.com/synthcast/synthcast/render"
)

// maxErrKey bounds how much of a client's key an error body repeats.
const maxErrKey = 64

// route answers the parsed request c.req, appending its response to out.
// closeAfter reports that the connection must close once out is written.
// Loop goroutine only.
func (s *Server) route(c *conn, out []byte) (_ []byte, closeAfter bool) {
	req := &c.req
	var flags respFlags
	switch {
	case !req.KeepAlive:
		flags |= respClose
		closeAfter = true
	case req.Minor == 0:
		flags |= respKeepAlive
	}

	var handle func(*conn, []byte, respFlags) []byte
	switch string(req.Path) {
	case "/create_stream":
		handle = s.handleCreate
	case "/set_param":
		handle = s.handleSetParam
	case "/params":
		handle = s.handleParams
	case "/healthz":
		handle = s.handleHealth
	case "/stream":
	default:
		return s.appendError(out, 404, flags, "no such route"), closeAfter
	}
	switch {
	case req.IsMethod("GET"):
	case req.IsMethod("HEAD"):
		flags |= respHead
	default:
		return s.appendError(out, 405, flags|respAllow, "method not allowed"), closeAfter
	}
	if handle == nil { // /stream: a listener's connection ends the stream, not the response
		out, streamClose := s.handleStream(c, out, flags)
		return out, streamClose || closeAfter && c.lis == nil
	}
	return handle(c, out, flags), closeAfter
}

// respond appends a 200 response whose body is c.body.
func (s *Server) respond(c *conn, out []byte, flags respFlags) []byte {
	return appendJSONResponse(out, 200, *s.date.Load(), flags, c.body)
}

// appendStreamBody sets c.body to {"id": ..., "params": {...}}.
func (c *conn) setStreamBody(id string, p *render.Params) {
	b := append(c.body[:0], `{"id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"params":`...)
	b = p.AppendJSON(b)
	c.body = append(b, '}')
}

// handleCreate serves /create_stream[?key=value…]: a new stream with the
// given initial parameters (format keys included).
func (s *Server) handleCreate(c *conn, out []byte, flags respFlags) []byte {
	c.pairs = c.pairs[:0]
	for i := range c.req.NumParams() {
		k, v := c.req.Param(i)
		if dup := c.dupKey(k); dup {
			return s.appendKeyError(c, out, flags, "duplicate key", k)
		}
		c.pairs = append(c.pairs, render.Pair{Key: k, Value: v})
	}
	p, err := render.Defaults().With(c.pairs, true)
	if err != nil {
		return s.appendParamError(c, out, flags, err)
	}
	st := newStream(s, newToken(), p)
	err = s.reg.Add(st)
	for errors.Is(err, ErrDuplicateID) { // 2^-128 a try: here for correctness, not expected to run
		st = newStream(s, newToken(), p)
		err = s.reg.Add(st)
	}
	if errors.Is(err, ErrStreamLimit) {
		return s.appendError(out, 503, flags, "stream limit reached")
	}
	if err != nil {
		s.log.Error("creating a stream", "err", err)
		return s.appendError(out, 500, flags, "could not create the stream")
	}
	// A stream nobody listens to expires like one whose listeners left.
	s.wheelMu.Lock()
	if st.n.Load() == 0 && !st.ttlTimer.Scheduled() {
		s.wheel.Schedule(&st.ttlTimer, time.Now().Add(s.cfg.StreamTTL))
	}
	s.wheelMu.Unlock()
	c.setStreamBody(st.ID(), st.Params())
	return s.respond(c, out, flags)
}

// handleSetParam serves /set_param?id=TOKEN&key=value[&key2=value2…]: all
// pairs apply together or none does.
func (s *Server) handleSetParam(c *conn, out []byte, flags respFlags) []byte {
	st, out, ok := s.lookupStream(c, out, flags)
	if !ok {
		return out
	}
	c.pairs = c.pairs[:0]
	for i := range c.req.NumParams() {
		k, v := c.req.Param(i)
		if string(k) == "id" {
			continue
		}
		if c.dupKey(k) {
			return s.appendKeyError(c, out, flags, "duplicate key", k)
		}
		c.pairs = append(c.pairs, render.Pair{Key: k, Value: v})
	}
	if len(c.pairs) == 0 {
		return s.appendError(out, 400, flags, "no parameter given: use key=value")
	}
	p, err := st.live.Apply(c.pairs)
	if err != nil {
		return s.appendParamError(c, out, flags, err)
	}
	c.setStreamBody(st.ID(), p)
	return s.respond(c, out, flags)
}

// handleParams serves /params?id=TOKEN: the stream's current parameters.
func (s *Server) handleParams(c *conn, out []byte, flags respFlags) []byte {
	st, out, ok := s.lookupStream(c, out, flags)
	if !ok {
		return out
	}
	c.setStreamBody(st.ID(), st.Params())
	return s.respond(c, out, flags)
}

// handleHealth serves /healthz: liveness and a few counts.
func (s *Server) handleHealth(c *conn, out []byte, flags respFlags) []byte {
	c.body = appendStats(c.body[:0], s.Stats())
	return s.respond(c, out, flags)
}

// lookupStream finds the stream named by the request's single id parameter,
// or appends the error response (400 missing or repeated id, 404 unknown).
func (s *Server) lookupStream(c *conn, out []byte, flags respFlags) (*Stream, []byte, bool) {
	var id []byte
	n := 0
	for i := range c.req.NumParams() {
		if k, v := c.req.Param(i); string(k) == "id" {
			id = v
			n++
		}
	}
	switch {
	case n == 0:
		return nil, s.appendError(out, 400, flags, "missing id"), false
	case n > 1:
		return nil, s.appendError(out, 400, flags, "id given more than once"), false
	}
	st := s.reg.Lookup(id)
	if st == nil {
		return nil, s.appendError(out, 404, flags, "unknown stream id"), false
	}
	return st, out, true
}

// dupKey reports whether key is already among c.pairs.
func (c *conn) dupKey(key []byte) bool {
	for _, p := range c.pairs {
		if string(p.Key) == string(key) {
			return true
		}
	}
	return false
}

// appendKeyError appends a 400 {"error": msg, "key": key}, key cut to maxErrKey bytes.
func (s *Server) appendKeyError(c *conn, out []byte, flags respFlags, msg string, key []byte) []byte {
	body := append(c.body[:0], `{"error":`...)
	body = appendJSONString(body, msg)
	body = append(body, `,"key":`...)
	body = appendJSONBytes(body, key[:min(len(key), maxErrKey)])
	c.body = append(body, '}')
	return appendJSONResponse(out, 400, *s.date.Load(), flags, c.body)
}

// appendParamError appends a 400 for a rejected parameter: the error names
// the key and what it allows.
func (s *Server) appendParamError(c *conn, out []byte, flags respFlags, err error) []byte {
	body := append(c.body[:0], `{"error":`...)
	body = appendJSONString(body, err.Error())
	var pe *render.ParamError
	if errors.As(err, &pe) {
		body = append(body, `,"key":`...)
		body = appendJSONString(body, pe.Key[:min(len(pe.Key), maxErrKey)])
		if pe.Allowed != "" {
			body = append(body, `,"allowed":`...)
			body = appendJSONString(body, pe.Allowed)
		}
	}
	c.body = append(body, '}')
	return appendJSONResponse(out, 400, *s.date.Load(), flags, c.body)
}
