package server

import (
	"errors"
	"strconv"

	"github.com/panjf2000/gnet/v2"

	"github.com/synthcast/synthcast/render"
)

// handleStream serves /stream?id=TOKEN: the Icecast-style response head, the
// burst, then real-time frames until the listener leaves. The connection
// becomes a listener: nothing it sends afterwards is read as a request.
// HEAD gets the head only and the connection closes.
func (s *transport) handleStream(c *conn, out []byte, flags respFlags) ([]byte, bool) {
	st, out, ok := s.lookupStream(c, out, flags)
	if !ok {
		return out, false
	}
	p := st.Params()
	icy := isOne(c.req.Header("Icy-MetaData"))
	if flags&respHead != 0 {
		return s.appendStreamHead(out, st, p, icy), true
	}
	if s.hub.listeners.Load() >= int64(s.cfg.MaxListeners) {
		return s.appendError(out, 503, flags, "listener limit reached"), false
	}
	gc := c.gc
	// Responses to requests pipelined ahead of this one go first.
	if len(out) > 0 {
		_, _ = gc.Write(out)
		out = out[:0]
		if c.closed { // the write failed and gnet closed the connection
			return out, false
		}
	}
	// Keep the kernel's share of an unread listener's queue small, so the
	// bound on queued bytes is reached (and counted) where we can see it.
	_ = gc.SetWriteBuffer(s.hub.sndbuf)
	c.phase.Store(phaseStream)
	c.deadline.Store(0)
	l := &listener{gc: gc}
	l.icy.on, l.icy.left = icy, icyMetaInt
	c.body = s.appendStreamHead(c.body[:0], st, p, icy)
	views, refs, err := s.hub.attach(st, l, s.loopIndex(gc.EventLoop()), gc.EventLoop(), append(c.views[:0], c.body), c.refs[:0])
	if err != nil {
		c.phase.Store(phaseIdle)
		if errors.Is(err, ErrListenerLimit) {
			return s.appendError(out, 503, flags, "listener limit reached"), false
		}
		return s.appendError(out, 404, flags, "unknown stream id"), false
	}
	// From here a failed write closes the connection at once, and OnClose
	// detaches the listener (c.lis must be set first) and hands c's request
	// state back to the pool (so only the locals views and refs are used
	// after the write).
	c.lis = l
	s.answered(c, routeStream, 200)
	if icy { // the burst, cut for metadata blocks
		title := st.title.Load()
		iv := append(c.icyViews[:0], views[0])
		for _, v := range views[1:] {
			iv = l.icy.appendViews(iv, v, title)
		}
		_, _ = gc.Writev(iv)
		clear(iv)
		c.icyViews = iv[:0]
	} else {
		_, _ = gc.Writev(views)
	}
	for i, b := range refs {
		b.release()
		refs[i] = nil
	}
	clear(views)
	if c.closed {
		return nil, false
	}
	l.drained = gc.OutboundBuffered() == 0
	c.views, c.refs = views[:0], refs[:0]
	return out, false
}

// isOne reports whether a header value is "1" (Icy-MetaData's yes).
func isOne(v []byte) bool { return len(v) == 1 && v[0] == '1' }

// appendStreamHead appends the head of a /stream response: audio/mpeg, no
// length (the body ends with the connection), no caching, the Icecast set
// of icy-* headers players show, icy-metaint for a listener that asked for
// metadata, and the CORS headers a browser needs to ask for and read them.
func (s *transport) appendStreamHead(dst []byte, st *Stream, p *render.Params, icy bool) []byte {
	dst = append(dst, "HTTP/1.1 200 OK\r\nServer: synthcast\r\nDate: "...)
	dst = append(dst, *s.date.Load()...)
	dst = append(dst, "\r\nSynthcast-Node: "...)
	dst = append(dst, s.node...)
	dst = append(dst, "\r\nContent-Type: audio/mpeg\r\n"+
		"Cache-Control: no-cache, no-store\r\n"+
		"Pragma: no-cache\r\n"+
		"Expires: Mon, 26 Jul 1997 05:00:00 GMT\r\n"+
		"Access-Control-Allow-Origin: *\r\n"+
		"Access-Control-Allow-Headers: Icy-MetaData\r\n"+
		"Access-Control-Expose-Headers: icy-br, icy-description, icy-genre, icy-metaint, icy-name, icy-pub, icy-sr, ice-audio-info\r\n"+
		"icy-name: "...)
	if st.name != "" {
		dst = append(dst, st.name...) // checkName: no control characters, so no header injection
	} else {
		dst = append(dst, "synthcast"...)
	}
	dst = append(dst, "\r\nicy-description: generated audio, "...)
	dst = append(dst, p.Mode.String()...)
	dst = append(dst, "\r\nicy-genre: generated\r\nicy-pub: 0\r\nicy-br: "...)
	dst = strconv.AppendInt(dst, int64(p.Bitrate), 10)
	dst = append(dst, "\r\nicy-sr: "...)
	dst = strconv.AppendInt(dst, int64(p.SampleRate), 10)
	dst = append(dst, "\r\nice-audio-info: ice-samplerate="...)
	dst = strconv.AppendInt(dst, int64(p.SampleRate), 10)
	dst = append(dst, ";ice-bitrate="...)
	dst = strconv.AppendInt(dst, int64(p.Bitrate), 10)
	dst = append(dst, ";ice-channels="...)
	dst = strconv.AppendInt(dst, int64(p.Channels), 10)
	if icy {
		dst = append(dst, "\r\nicy-metaint: "+icyMetaIntText...)
	}
	dst = append(dst, "\r\nConnection: close\r\n\r\n"...)
	return dst
}

// loopIndex returns a small dense index for el, the same for every call with
// the same loop. Safe from any goroutine.
func (s *transport) loopIndex(el gnet.EventLoop) int {
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	for i, e := range s.loops {
		if e == el {
			return i
		}
	}
	s.loops = append(s.loops, el)
	return len(s.loops) - 1
}
