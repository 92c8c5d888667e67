package httpparse

// Limits. Each is enforced as soon as the byte that crosses it arrives, so a
// client cannot make the server buffer more than MaxHeadBytes of an unfinished
// head.
const (
	// MaxTargetBytes bounds the request-target. Synthcast's longest legitimate
	// target is a set_param with a handful of pairs, well under 1 KiB; 8 KiB is
	// the figure RFC 9112 §3 recommends supporting at least, and what nginx
	// and Apache allow by default. Past it: 414.
	MaxTargetBytes = 8192

	// MaxHeadBytes bounds a whole request head, from its first byte (leading
	// empty lines included) to the end of the blank line. It is the most one
	// connection makes the server buffer; 16 KiB holds the request line
	// (MaxTargetBytes) plus the headers any browser or HTTP library sends.
	// Past it: 431. It must fit in a uint16, which the Parser stores offsets in.
	MaxHeadBytes = 16384

	// MaxHeaders bounds the header field lines of a request; each costs a slot
	// in Request's fixed array. Browsers send about 20. Past it: 431.
	MaxHeaders = 64

	// MaxParams bounds the query parameters of a request, so decoding a query
	// costs bounded time and scratch space. Synthcast's control requests carry
	// a token and a few pairs. Past it: 400.
	MaxParams = 64
)

// Offsets into a head are stored as uint16.
const _ = uint16(MaxHeadBytes)

// Scan states. Each names what the next byte may be.
const (
	stStart     uint8 = iota // a request line, or an empty line to skip
	stStartLF                // LF of a skipped empty line
	stMethod                 // method tchars, then SP
	stTarget                 // request-target bytes, then SP
	stVersion                // "HTTP/x.y", p.vn bytes matched so far
	stVersionCR              // CR after the version
	stVersionLF              // LF ending the request line
	stLineStart              // a header field name, or the CR of the blank line
	stName                   // header name tchars, then ':'
	stValue                  // header value bytes, then CR
	stValueLF                // LF ending a header line
	stHeadLF                 // LF of the blank line ending the head
)

// Parser state flags.
const (
	fHost      = 1 << iota // a Host header was seen
	fLength                // a Content-Length header was seen
	fClose                 // a Connection header has the "close" token
	fKeepAlive             // a Connection header has the "keep-alive" token
	fAuthority             // the target has the authority: absolute-form or authority-form
)

// span locates one header line's name and value in the head.
type span struct{ ns, ne, vs, ve uint16 }

// Parser is an incremental HTTP/1.1 request-head parser. Its zero value is
// ready to use. It holds the state of one connection's current head between
// calls, so use one Parser per connection; it is not safe for concurrent use
// (on gnet: loop goroutine only, as Peek and Discard are).
type Parser struct {
	err   error // final error, returned again until Reset
	off   int   // index in buf of the next byte to examine
	work  int   // bytes examined since Reset; tests use it to prove linear work
	state uint8
	flags uint8
	vn    uint8 // bytes of "HTTP/x.y" matched
	major uint8
	minor uint8

	method Method // classified when the method's SP arrives
	ms, me int    // method
	ts, te int    // request-target
	ps, pe int    // path; ps is -1 for authority-form, which has none
	qs     int    // query start, after '?'; -1 if none. It ends at te.
	as, ae int    // authority of an absolute-form or authority-form target
	hs, he int    // Host header value
	ns, ne int    // name of the header line being scanned
	vs, ve int    // value of the header line being scanned, OWS trimmed
	nhdr   int
	hdr    [MaxHeaders]span
}

// Reset discards any partial head and any error, readying p for a new
// connection or a new start on this one. After a success Parse readies p
// for the next head by itself, so a server needs Reset only to reuse a
// Parser across connections.
func (p *Parser) Reset() {
	p.resetState()
	p.err = nil
	p.work = 0
}

// resetState readies p for the next request head. The offsets are all set
// before they are read, so only the scan position, state and flags matter.
func (p *Parser) resetState() {
	p.off = 0
	p.state = stStart
	p.flags = 0
	p.vn = 0
	p.nhdr = 0
}

// Parse parses the request head at the start of buf into req.
//
// It returns the number of bytes the head occupies (leading empty lines
// included) and a nil error when the head is complete; the bytes after it
// belong to the next request. It returns ErrNeedMore when buf holds only part
// of a head: call again, with buf holding the same bytes followed by more,
// and Parse resumes where it stopped rather than rescanning. Any other error
// is an *Error and final: answer its Status and close the connection; Parse
// returns the same error until Reset.
//
// After a success p is ready for the next head, which starts at buf[n:]
// (after the server discards n bytes, at the start of its next buf). A buf
// shorter than the bytes already scanned makes Parse start over.
//
// req is written only on success; on any error it is left untouched, so one
// Request may serve every connection of an event loop, provided each request
// is handled before the next call to Parse. The slices req then
// holds are views into buf, valid until those bytes are discarded or buf is
// reused; decoded query parameters are valid until the next successful Parse
// into req.
func (p *Parser) Parse(buf []byte, req *Request) (n int, err error) {
	if p.err != nil {
		return 0, p.err
	}
	if len(buf) < p.off {
		p.resetState()
	}
	i := p.off
	start := i // where this call's scan begins: p.work counts from here
	end := min(len(buf), MaxHeadBytes)
	st := p.state
	for i < end {
		switch st {
		case stStart:
			switch c := buf[i]; c {
			case '\r':
				st = stStartLF
				i++
			case '\n':
				return p.fail(ErrBareLF)
			default:
				p.ms = i
				st = stMethod
			}

		case stStartLF:
			if buf[i] != '\n' {
				return p.fail(ErrBareCR)
			}
			st = stStart
			i++

		case stMethod:
			for i < end && isToken(buf[i]) {
				i++
			}
			if i == end {
				break
			}
			switch buf[i] {
			case ' ':
				if i == p.ms {
					return p.fail(ErrBadMethod)
				}
				p.me = i
				p.method = methodOf(buf[p.ms:i])
				i++
				p.ts = i
				st = stTarget
			case '\r', '\n':
				return p.fail(ErrBadRequestLine)
			default:
				return p.fail(ErrBadMethod)
			}

		case stTarget:
			lim := min(end, p.ts+MaxTargetBytes)
			for i < lim && class[buf[i]]&cTarget != 0 {
				i++
			}
			if i == end {
				break
			}
			switch c := buf[i]; {
			case c == ' ':
				if i == p.ts {
					return p.fail(ErrBadTarget) // empty: two spaces after the method
				}
				p.te = i
				if err := p.finishTarget(buf); err != nil {
					return p.fail(err)
				}
				i++
				p.vn = 0
				st = stVersion
			case i-p.ts >= MaxTargetBytes:
				return p.fail(ErrTargetTooLong)
			case c == '\r' || c == '\n':
				return p.fail(ErrBadRequestLine) // no version
			default:
				return p.fail(ErrBadTarget)
			}

		case stVersion:
			for ; i < end && p.vn < 8; i++ {
				c := buf[i]
				switch p.vn {
				case 5, 7:
					if c < '0' || c > '9' {
						return p.fail(ErrBadVersion)
					}
					if p.vn == 5 {
						p.major = c - '0'
					} else {
						p.minor = c - '0'
					}
				case 6:
					if c != '.' {
						return p.fail(ErrBadVersion)
					}
				default:
					if c != "HTTP/"[p.vn] {
						return p.fail(ErrBadVersion)
					}
				}
				p.vn++
			}
			if p.vn == 8 {
				st = stVersionCR
			}

		case stVersionCR:
			switch buf[i] {
			case '\r':
				st = stVersionLF
				i++
			case '\n':
				return p.fail(ErrBareLF)
			default:
				return p.fail(ErrBadVersion)
			}

		case stVersionLF:
			if buf[i] != '\n' {
				return p.fail(ErrBareCR)
			}
			if p.major != 1 || p.minor > 1 {
				return p.fail(ErrVersionNotSupported)
			}
			i++
			st = stLineStart

		case stLineStart:
			switch c := buf[i]; {
			case c == '\r':
				st = stHeadLF
				i++
			case c == '\n':
				return p.fail(ErrBareLF)
			case c == ' ' || c == '\t':
				return p.fail(ErrObsFold)
			case isToken(c):
				if p.nhdr == MaxHeaders {
					return p.fail(ErrTooManyHeaders)
				}
				p.ns = i
				i++
				st = stName
			default:
				return p.fail(ErrBadHeaderName) // ':' here is an empty name
			}

		case stName:
			for i < end && isToken(buf[i]) {
				i++
			}
			if i == end {
				break
			}
			switch buf[i] {
			case ':':
				p.ne = i
				i++
				p.vs, p.ve = -1, i
				st = stValue
			case ' ', '\t':
				return p.fail(ErrSpaceBeforeColon)
			default:
				return p.fail(ErrBadHeaderName)
			}

		case stValue:
			// vs is -1 until the first byte that is not OWS; ve follows the
			// last such byte, so the value comes out trimmed.
			vs, ve := p.vs, p.ve
			for ; i < end; i++ {
				c := buf[i]
				if c == ' ' || c == '\t' {
					continue
				}
				if c < ' ' || c == 0x7f {
					break
				}
				if vs < 0 {
					vs = i
				}
				ve = i + 1
			}
			p.vs, p.ve = vs, ve
			if i == end {
				break
			}
			switch buf[i] {
			case '\r':
				st = stValueLF
				i++
			case '\n':
				return p.fail(ErrBareLF)
			default:
				return p.fail(ErrBadHeaderValue)
			}

		case stValueLF:
			if buf[i] != '\n' {
				return p.fail(ErrBareCR)
			}
			if err := p.endHeader(buf); err != nil {
				return p.fail(err)
			}
			i++
			st = stLineStart

		case stHeadLF:
			if buf[i] != '\n' {
				return p.fail(ErrBareCR)
			}
			i++
			p.work += i - start
			return p.complete(buf, i, req)
		}
	}
	p.work += i - start
	if len(buf) > MaxHeadBytes {
		// i == MaxHeadBytes and the head has not ended.
		return p.fail(ErrHeadTooLarge)
	}
	p.off = i
	p.state = st
	return 0, ErrNeedMore
}

// fail records err as final and returns it.
func (p *Parser) fail(err *Error) (int, error) {
	p.err = err
	return 0, err
}

// finishTarget checks the request-target buf[p.ts:p.te] once its end is
// known, and records where its parts are. The method is known by then, and
// decides two of the four forms (RFC 9112 §3.2): authority-form is CONNECT's
// only form and no other method's, asterisk-form is OPTIONS's alone.
func (p *Parser) finishTarget(buf []byte) *Error {
	t := buf[p.ts:p.te]
	switch {
	case p.method == MethodConnect:
		if !validAuthorityForm(t) {
			return ErrBadTarget
		}
		p.as, p.ae = p.ts, p.te
		p.flags |= fAuthority
		p.ps, p.pe, p.qs = -1, -1, -1
		return nil
	case p.method == MethodOptions && len(t) == 1 && t[0] == '*':
		p.ps, p.pe, p.qs = p.ts, p.te, -1
		return nil
	}
	rest := p.ts // start of the path
	if t[0] != '/' {
		var k int
		switch {
		case len(t) >= 7 && equalFold(t[:7], "http://"):
			k = 7
		case len(t) >= 8 && equalFold(t[:8], "https://"):
			k = 8
		default:
			return ErrUnsupportedTarget // asterisk-form or authority-form for the wrong method, other schemes
		}
		p.as = p.ts + k
		p.ae = p.as
		for p.ae < p.te && buf[p.ae] != '/' && buf[p.ae] != '?' {
			p.ae++
		}
		if !validHost(buf[p.as:p.ae]) {
			return ErrBadTarget
		}
		p.flags |= fAuthority
		rest = p.ae
	}
	p.ps, p.pe, p.qs = rest, p.te, -1
	for i := rest; i < p.te; i++ {
		switch buf[i] {
		case '?':
			if p.qs < 0 {
				p.pe, p.qs = i, i+1
			}
		case '%':
			if i+2 >= p.te || !isHex(buf[i+1]) || !isHex(buf[i+2]) {
				return ErrBadEscape
			}
			i += 2
		case '[', ']':
			return ErrBadTarget // allowed only in the authority
		}
	}
	if p.ps == p.pe && p.flags&fAuthority != 0 {
		// An empty path means "/": point at the second '/' of "://".
		p.ps, p.pe = p.as-1, p.as
	}
	if p.qs >= 0 && countParams(buf[p.qs:p.te]) > MaxParams {
		return ErrTooManyParams
	}
	return nil
}

// endHeader records the header line just scanned and applies the rules for
// the fields the parser itself enforces.
func (p *Parser) endHeader(buf []byte) *Error {
	if p.vs < 0 {
		p.vs = p.ve // empty value
	}
	p.hdr[p.nhdr] = span{uint16(p.ns), uint16(p.ne), uint16(p.vs), uint16(p.ve)}
	p.nhdr++
	name, value := buf[p.ns:p.ne], buf[p.vs:p.ve]
	switch len(name) {
	case len("host"):
		if !equalFold(name, "host") {
			break
		}
		if p.flags&fHost != 0 {
			return ErrDuplicateHost
		}
		if len(value) > 0 && !validHost(value) {
			return ErrBadHost
		}
		p.flags |= fHost
		p.hs, p.he = p.vs, p.ve
	case len("expect"):
		if equalFold(name, "expect") && !onlyContinue(value) {
			return ErrExpectationFailed
		}
	case len("connection"):
		if equalFold(name, "connection") {
			p.connectionTokens(value)
		}
	case len("content-length"):
		if !equalFold(name, "content-length") {
			break
		}
		if p.flags&fLength != 0 {
			return ErrDuplicateLength // even with an equal value
		}
		p.flags |= fLength
		return checkContentLength(value)
	case len("transfer-encoding"):
		if equalFold(name, "transfer-encoding") {
			return ErrBodyNotAccepted
		}
	}
	return nil
}

// connectionTokens records the close and keep-alive tokens of a Connection
// header's comma-separated list.
func (p *Parser) connectionTokens(v []byte) {
	for len(v) > 0 {
		var tok []byte
		tok, v = nextElement(v)
		switch {
		case equalFold(tok, "close"):
			p.flags |= fClose
		case equalFold(tok, "keep-alive"):
			p.flags |= fKeepAlive
		}
	}
}

// onlyContinue reports whether an Expect field line v holds no expectation
// but 100-continue (RFC 9110 §10.1.1: Expect = #expectation, compared
// case-insensitively). Empty list elements are skipped (§5.6.1), so an empty
// value holds none. Anything else, parameters and quoted strings included,
// is an expectation we cannot meet: 417.
//
// We accept 100-continue without ever sending 100 (Continue). §10.1.1 lets a
// server "omit sending a 100 (Continue) response if it has already received
// some or all of the content for the corresponding request, or if the framing
// indicates that there is no content", and we take no content: a head we
// accept has no Transfer-Encoding and a Content-Length of 0 or none, so the
// client has nothing to wait to send. A head that announces content fails
// with ErrBodyNotAccepted, the "immediate response with a final status code"
// §10.1.1 asks of a server that will not read it; the connection then closes.
// In HTTP/1.0 the expectation must be ignored, which accepting it does.
func onlyContinue(v []byte) bool {
	for len(v) > 0 {
		var e []byte
		e, v = nextElement(v)
		if len(e) > 0 && !equalFold(e, "100-continue") {
			return false
		}
	}
	return true
}

// checkContentLength accepts a Content-Length of 0 (any number of zero
// digits): a request without a body. Other numbers announce a body, which we
// refuse; anything but 1*DIGIT, or a number past int64, is malformed.
func checkContentLength(v []byte) *Error {
	if len(v) == 0 {
		return ErrBadContentLength
	}
	const maxInt64 = 1<<63 - 1
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return ErrBadContentLength
		}
		d := int64(c - '0')
		if n > (maxInt64-d)/10 {
			return ErrBadContentLength
		}
		n = n*10 + d
	}
	if n != 0 {
		return ErrBodyNotAccepted
	}
	return nil
}

// complete checks what can only be checked at the end of the head, fills req
// and readies p for the next request. n is the length of the head.
func (p *Parser) complete(buf []byte, n int, req *Request) (int, error) {
	if p.major == 1 && p.minor == 1 && p.flags&fHost == 0 {
		return p.fail(ErrMissingHost)
	}
	var query []byte
	if p.qs >= 0 {
		query = view(buf, p.qs, p.te)
	}
	if err := req.setQuery(query); err != nil {
		return p.fail(err) // unreachable: finishTarget checked the query
	}
	req.Method = p.method
	req.RawMethod = view(buf, p.ms, p.me)
	req.Target = view(buf, p.ts, p.te)
	if p.ps >= 0 {
		req.Path = view(buf, p.ps, p.pe)
	} else {
		req.Path = nil
	}
	req.RawQuery = query
	req.Major, req.Minor = int(p.major), int(p.minor)
	switch {
	case p.flags&fAuthority != 0:
		req.Host = view(buf, p.as, p.ae)
	case p.flags&fHost != 0:
		req.Host = view(buf, p.hs, p.he)
	default:
		req.Host = nil
	}
	if p.minor == 0 {
		req.KeepAlive = p.flags&fKeepAlive != 0 && p.flags&fClose == 0
	} else {
		req.KeepAlive = p.flags&fClose == 0
	}
	for i, s := range p.hdr[:p.nhdr] {
		req.hdr[i] = header{
			name:  view(buf, int(s.ns), int(s.ne)),
			value: view(buf, int(s.vs), int(s.ve)),
		}
	}
	if req.nhdr > p.nhdr {
		clear(req.hdr[p.nhdr:req.nhdr]) // drop views of old buffers
	}
	req.nhdr = p.nhdr
	p.resetState()
	return n, nil
}

// view returns buf[i:j] with its capacity cut at j, so appending to a view
// cannot overwrite the bytes after it.
func view(buf []byte, i, j int) []byte { return buf[i:j:j] }
