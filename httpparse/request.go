package httpparse

import "bytes"

// Request is a parsed request head. Its zero value is ready to use, and it is
// meant to be reused: Parse overwrites it on each success and keeps the
// capacity of its scratch buffers, so parsing allocates nothing once they
// have grown to fit.
//
// The byte-slice fields and the header accessors return views into the
// buffer passed to Parse: valid until those bytes are discarded or the
// buffer is reused, never to be modified. Query and Param return decoded
// copies owned by the Request, valid until the next successful Parse into
// it. A Request is not safe for concurrent use; on gnet it belongs to the
// loop goroutine.
type Request struct {
	Method    Method // MethodGet, MethodHead, …, or MethodOther for any other token
	RawMethod []byte // method token as sent, e.g. "GET" or "M-SEARCH"
	Target    []byte // request-target as sent
	RawQuery  []byte // query after '?', not decoded; nil if the target has no '?'
	Major     int    // HTTP major version: 1
	Minor     int    // HTTP minor version: 0 or 1

	// Path is the target's path, not percent-decoded: it begins with '/',
	// and is "/" for an absolute-form target without one. It is "*" for
	// asterisk-form (OPTIONS * only) and nil for authority-form (CONNECT
	// only), which have no path.
	Path []byte

	// Host is the authority of an absolute-form or authority-form target if
	// there is one, else the Host header's value, else nil (possible in
	// HTTP/1.0 only). It is as sent: an IPv6 zone ID stays percent-encoded,
	// as in "[fe80::1%25en0]:80".
	Host []byte

	// KeepAlive reports whether the connection may carry another request:
	// for HTTP/1.1 unless a Connection header has the "close" token, for
	// HTTP/1.0 only if one has "keep-alive" and none has "close".
	KeepAlive bool

	nhdr   int
	hdr    [MaxHeaders]header
	params []param // decoded query, in order; key and value point into qbuf
	qbuf   []byte  // scratch for the decoded query
}

type header struct{ name, value []byte }

type param struct{ key, value []byte }

// Reset drops every view into a parsed buffer (so a pooled Request does not
// keep a connection's buffer alive) and keeps the capacity of the scratch
// buffers, so a Request reused after Reset parses without allocating.
func (r *Request) Reset() {
	params, qbuf := r.params[:0], r.qbuf[:0]
	clear(r.params[:cap(r.params)])
	*r = Request{params: params, qbuf: qbuf}
}

// NumHeaders returns the number of header field lines in the request.
func (r *Request) NumHeaders() int { return r.nhdr }

// HeaderAt returns the name, as sent, and the value, OWS trimmed, of the i-th
// header field line, for 0 <= i < NumHeaders(); it panics otherwise. Both are
// views into the parsed buffer.
func (r *Request) HeaderAt(i int) (name, value []byte) {
	if uint(i) >= uint(r.nhdr) {
		panic("httpparse: HeaderAt index out of range")
	}
	h := &r.hdr[i]
	return h.name, h.value
}

// Header returns the value of the first header field whose name equals name
// ignoring ASCII case, or nil if there is none (an empty value is non-nil).
// The value is a view into the parsed buffer. It does not allocate.
func (r *Request) Header(name string) []byte {
	for i := range r.hdr[:r.nhdr] {
		if equalFold(r.hdr[i].name, name) {
			return r.hdr[i].value
		}
	}
	return nil
}

// IsMethod reports whether the method token is exactly m (methods are
// case-sensitive), named by this package or not. It does not allocate. To
// tell the standard methods apart, switch on r.Method instead.
func (r *Request) IsMethod(m string) bool { return string(r.RawMethod) == m }

// NumParams returns the number of query parameters: the non-empty
// '&'-separated segments of the query.
func (r *Request) NumParams() int { return len(r.params) }

// Param returns the i-th query parameter, for 0 <= i < NumParams(), decoded:
// "%XX" escapes resolved and '+' read as a space. A segment without '=' has
// an empty value. Repeated keys are kept, in order. The bytes are owned by r
// and valid until the next successful Parse into it.
func (r *Request) Param(i int) (key, value []byte) {
	p := &r.params[i]
	return p.key, p.value
}

// Query returns the decoded value of the first query parameter whose decoded
// key is key, and whether there is one. The bytes are owned by r and valid
// until the next successful Parse into it. It does not allocate.
func (r *Request) Query(key string) (value []byte, ok bool) {
	for i := range r.params {
		if string(r.params[i].key) == key {
			return r.params[i].value, true
		}
	}
	return nil, false
}

// setQuery decodes q into r's parameters. Parse has already checked q
// (escapes and parameter count), so it cannot fail there; it checks again
// because it is also the decoder the query fuzz target drives on its own.
func (r *Request) setQuery(q []byte) *Error {
	r.params = r.params[:0]
	r.qbuf = r.qbuf[:0]
	if len(q) == 0 {
		return nil
	}
	// Decoding never lengthens, so with this capacity appends never move
	// qbuf and the views taken of it stay valid.
	if cap(r.qbuf) < len(q) {
		r.qbuf = make([]byte, 0, max(len(q), 2*cap(r.qbuf), 64))
	}
	if r.params == nil {
		r.params = make([]param, 0, 8)
	}
	for len(q) > 0 {
		var seg []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			seg, q = q[:i], q[i+1:]
		} else {
			seg, q = q, nil
		}
		if len(seg) == 0 {
			continue
		}
		if len(r.params) == MaxParams {
			return ErrTooManyParams
		}
		key, value := seg, seg[:0]
		if i := bytes.IndexByte(seg, '='); i >= 0 {
			key, value = seg[:i], seg[i+1:]
		}
		var k, v []byte
		var ok bool
		if k, ok = r.unescape(key); !ok {
			return ErrBadEscape
		}
		if v, ok = r.unescape(value); !ok {
			return ErrBadEscape
		}
		r.params = append(r.params, param{k, v})
	}
	return nil
}

// unescape appends the query-decoding of s to r.qbuf and returns the
// appended part, or false if s has a malformed escape.
func (r *Request) unescape(s []byte) ([]byte, bool) {
	start := len(r.qbuf)
	b := r.qbuf
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return nil, false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	r.qbuf = b
	return b[start:len(b):len(b)], true
}

// countParams returns the number of non-empty '&'-separated segments of q.
func countParams(q []byte) int {
	n, seg := 0, 0
	for _, c := range q {
		if c == '&' {
			if seg > 0 {
				n++
			}
			seg = 0
			continue
		}
		seg++
	}
	if seg > 0 {
		n++
	}
	return n
}
