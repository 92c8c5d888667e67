package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/synthcast/synthcast/httpparse"

	"github.com/synthcast/synthcast/render"
)

// maxErrKey bounds how much of a client's key an error body repeats.
const maxErrKey = 64

// route answers the parsed request c.req, appending its response to out.
// closeAfter reports that the connection must close once out is written.
// Loop goroutine only.
func (s *transport) route(c *conn, out []byte) (_ []byte, closeAfter bool) {
	mark := len(out)
	out, closeAfter = s.routeRequest(c, out)
	s.countResponse(c, int(c.route), out, mark)
	return out, closeAfter
}

// routeRequest is route without the counting.
func (s *transport) routeRequest(c *conn, out []byte) (_ []byte, closeAfter bool) {
	req := &c.req
	var flags respFlags
	switch {
	case !req.KeepAlive:
		flags |= respClose
		closeAfter = true
	case req.Minor == 0:
		flags |= respKeepAlive
	}
	if s.draining.Load() {
		c.route = routeOther
		return s.appendError(out, 503, respClose, "the server is shutting down"), true
	}
	switch req.Method {
	case httpparse.MethodOther: // RFC 9110 §9.1: 501 whatever the target
		c.route = routeOther
		return s.appendError(out, 501, flags, "method not implemented"), closeAfter
	case httpparse.MethodConnect: // authority-form: no path to route
		c.route = routeOther
		return s.appendError(out, 405, flags|respAllow, "method not allowed"), closeAfter
	}

	var handle func(*conn, []byte, respFlags) []byte
	switch string(req.Path) {
	case "/create_stream":
		handle, c.route = s.handleCreate, routeCreate
	case "/set_param":
		handle, c.route = s.handleSetParam, routeSetParam
	case "/params":
		handle, c.route = s.handleParams, routeParams
	case "/healthz":
		handle, c.route = s.handleHealth, routeHealthz
	case "/stream":
		c.route = routeStream
	case "/events":
		c.route = routeEvents
	case "/keys":
		handle, c.route = s.handleKeys, routeKeys
	case "*": // OPTIONS * (the parser allows asterisk-form with OPTIONS only)
		c.route = routeOther
		return appendPreflight(out, *s.date.Load(), flags), closeAfter
	default:
		if a := s.assets[string(req.Path)]; a != nil {
			c.asset = a
			handle, c.route = s.handlePage, routePage
			break
		}
		c.route = routeOther
		return s.appendError(out, 404, flags, "no such route"), closeAfter
	}
	switch req.Method {
	case httpparse.MethodGet:
	case httpparse.MethodHead:
		flags |= respHead
	case httpparse.MethodOptions:
		// A CORS preflight (or a plain OPTIONS): what a browser may send here.
		return appendPreflight(out, *s.date.Load(), flags), closeAfter
	default:
		return s.appendError(out, 405, flags|respAllow, "method not allowed"), closeAfter
	}
	if handle == nil { // /stream, /events: the client's leaving ends the response
		var streamClose bool
		if c.route == routeStream {
			out, streamClose = s.handleStream(c, out, flags)
		} else {
			out, streamClose = s.handleEvents(c, out, flags)
		}
		return out, streamClose || closeAfter && c.lis == nil && c.sub == nil
	}
	return handle(c, out, flags), closeAfter
}

// respond appends a 200 response whose body is c.body.
func (s *transport) respond(c *conn, out []byte, flags respFlags) []byte {
	return appendJSONResponse(out, 200, *s.date.Load(), flags, c.body)
}

// setStreamBody sets c.body to the JSON of a stream as its token's holder
// may see it: {"id", "listen_id", "role": "control", "name"?, "title",
// "params"} for the control token, {"id", "role": "listen", "name"?,
// "title", "params"} for the listen token (never the control token).
func (c *conn) setStreamBody(st *Stream, control bool, p *render.Params) {
	b := append(c.body[:0], `{"id":`...)
	if control {
		b = appendJSONString(b, st.id)
		b = append(b, `,"listen_id":`...)
		b = appendJSONString(b, st.listenID)
		b = append(b, `,"role":"control"`...)
	} else {
		b = appendJSONString(b, st.listenID)
		b = append(b, `,"role":"listen"`...)
	}
	if st.name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, st.name)
	}
	b = append(b, `,"node":`...)
	b = appendJSONString(b, st.hub.node)
	c.scratch = appendTitle(c.scratch[:0], st.name, p)
	b = append(b, `,"title":`...)
	b = appendJSONBytes(b, c.scratch)
	b = append(b, `,"params":`...)
	b = p.AppendJSON(b)
	c.body = append(b, '}')
}

// handleCreate serves /create_stream[?name=…&key=value…]: a new stream with
// the given initial parameters (format keys included) and optional name,
// answered once stored.
func (s *transport) handleCreate(c *conn, out []byte, flags respFlags) []byte {
	c.pairs = c.pairs[:0]
	var name []byte
	for i := range c.req.NumParams() {
		k, v := c.req.Param(i)
		if dup := c.dupKey(k) || string(k) == "name" && name != nil; dup {
			return s.appendKeyError(c, out, flags, "duplicate key", k)
		}
		if string(k) == "name" {
			if err := checkName(v); err != nil {
				return s.appendKeyError(c, out, flags, err.Error(), k)
			}
			name = v[:len(v):len(v)]
			continue
		}
		c.pairs = append(c.pairs, render.Pair{Key: k, Value: v})
	}
	p, err := render.Defaults().With(c.pairs, true)
	if err != nil {
		return s.appendParamError(c, out, flags, err)
	}
	if flags&respHead != 0 {
		// HEAD never has a side effect: the head a GET would get, no stream.
		id := newToken()
		c.setStreamBody(&Stream{id: id, listenID: newListenToken(id), name: string(name), hub: s.hub}, true, &p)
		return s.respond(c, out, flags)
	}
	completed, err := s.hub.create(string(name), p, s.change(c))
	if err != nil {
		return s.appendError(out, 503, flags, "stream limit reached")
	}
	return s.awaitChange(c, out, flags, completed)
}

// handleSetParam serves /set_param?id=TOKEN&key=value[&key2=value2…]: all
// pairs apply together or none does, answered once stored. A listen token
// gets 403.
func (s *transport) handleSetParam(c *conn, out []byte, flags respFlags) []byte {
	st, out, ok := s.lookupStream(c, out, flags)
	if !ok {
		return out
	}
	if !c.control {
		return s.appendError(out, 403, flags, "a listen token cannot change the stream; use its control token")
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
	if flags&respHead != 0 {
		// HEAD never has a side effect: validate, answer as GET would, change nothing.
		p, err := st.Params().With(c.pairs, false)
		if err != nil {
			return s.appendParamError(c, out, flags, err)
		}
		c.setStreamBody(st, true, &p)
		return s.respond(c, out, flags)
	}
	completed, err := s.hub.apply(st, c.pairs, s.change(c))
	switch {
	case errors.Is(err, ErrUnknownStream):
		return s.appendError(out, 404, flags, "unknown stream id")
	case err != nil:
		return s.appendParamError(c, out, flags, err)
	}
	return s.awaitChange(c, out, flags, completed)
}

// change returns c's change, made on first use; its completion wakes c.
func (s *transport) change(c *conn) *change {
	if c.ch == nil {
		c.ch = &change{done: func(*change) {
			c.chDone.Store(true)
			s.wake(c)
		}}
	}
	return c.ch
}

// awaitChange answers c's change now if it completed, or else marks c as
// waiting for it: OnTraffic answers when the store's callback wakes c.
func (s *transport) awaitChange(c *conn, out []byte, flags respFlags, completed bool) []byte {
	if completed {
		return s.answerChange(c, out, flags)
	}
	c.wait, c.waitFlags = true, flags
	s.waiting.Add(1)
	return out
}

// answerChange appends the response to c's completed change: 200 with the
// stream's parameters, or 503 when the store could not keep it (the stream
// keeps what it had).
func (s *transport) answerChange(c *conn, out []byte, flags respFlags) []byte {
	ch := c.ch
	st := ch.st
	ch.st = nil
	if ch.Err != nil {
		s.log.Warn("a change was not stored", "err", ch.Err)
		return s.appendError(out, 503, flags, "the change could not be stored; nothing changed")
	}
	c.setStreamBody(st, true, &ch.params)
	return s.respond(c, out, flags)
}

// handleParams serves /params?id=TOKEN: the stream's current parameters.
func (s *transport) handleParams(c *conn, out []byte, flags respFlags) []byte {
	st, out, ok := s.lookupStream(c, out, flags)
	if !ok {
		return out
	}
	c.setStreamBody(st, c.control, st.Params())
	return s.respond(c, out, flags)
}

// handleHealth serves /healthz: liveness and a few counts.
func (s *transport) handleHealth(c *conn, out []byte, flags respFlags) []byte {
	c.body = appendStats(c.body[:0], s.node, s.srv.Stats())
	return s.respond(c, out, flags)
}

// lookupStream finds the stream named by the request's single id parameter,
// its control or listen token (c.control says which), or appends the error
// response (400 missing or repeated id, 404 unknown).
func (s *transport) lookupStream(c *conn, out []byte, flags respFlags) (*Stream, []byte, bool) {
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
	st, control := s.hub.lookup(id)
	c.control = control
	if st == nil && !c.fetched && s.hub.canFetch(id) {
		// Another node may have made it: load it, then route this again.
		err := s.hub.fetch(id, func() {
			c.chDone.Store(true)
			s.wake(c)
		})
		if err == nil {
			c.fetching, c.fetched, c.wait = true, true, true
			s.waiting.Add(1)
			return nil, out, false
		}
		return nil, s.appendError(out, 503, flags, "too many streams loading; try again"), false
	}
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
func (s *transport) appendKeyError(c *conn, out []byte, flags respFlags, msg string, key []byte) []byte {
	body := append(c.body[:0], `{"error":`...)
	body = appendJSONString(body, msg)
	body = append(body, `,"key":`...)
	body = appendJSONBytes(body, key[:min(len(key), maxErrKey)])
	c.body = append(body, '}')
	return appendJSONResponse(out, 400, *s.date.Load(), flags, c.body)
}

// appendParamError appends a 400 for a rejected parameter: the error names
// the key and what it allows.
func (s *transport) appendParamError(c *conn, out []byte, flags respFlags, err error) []byte {
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

// keysJSON and keysETag are /keys' body, render's parameter table, and its
// ETag: fixed for the life of the binary.
var keysJSON, keysETag = func() ([]byte, string) {
	b := render.AppendKeysJSON(nil)
	sum := sha256.Sum256(b)
	return b, `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// handleKeys serves /keys: the parameter table as JSON (name, kind, range
// or choices, default, unit, doc, allowed, and create_only: whether it may
// change only at /create_stream), with an ETag.
func (s *transport) handleKeys(c *conn, out []byte, flags respFlags) []byte {
	return appendCached(out, *s.date.Load(), flags, c.req.Header("If-None-Match"), "application/json", keysETag, keysJSON)
}
