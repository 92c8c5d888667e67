// Package httpparse parses HTTP/1.1 request heads incrementally from a byte
// slice, for a server driven by an event loop such as gnet.
//
// A connection owns one [Parser]. Each time bytes arrive the server calls
// Parse over everything it has buffered and not yet consumed:
//
//	buf, _ := c.Peek(-1)
//	n, err := p.Parse(buf, &req)
//	switch {
//	case errors.Is(err, httpparse.ErrNeedMore):
//		// Incomplete: keep the bytes, call again when more arrive.
//	case err != nil:
//		// Final: answer err's status (errors.As to *httpparse.Error), close.
//	default:
//		// Handle req, then c.Discard(n) and loop for a pipelined request.
//	}
//
// The [Request] it fills holds views into buf, not copies: they stay valid
// until those bytes are discarded or the buffer is reused. Decoded query
// parameters live in a scratch buffer owned by the Request.
//
// # Invariants
//
//   - Work is linear in the bytes received. The Parser keeps the state of its
//     scan between calls, so each byte of a head is examined once, whether it
//     arrives whole or one byte per call.
//   - Limits hold while a head is incomplete: a request-target past
//     [MaxTargetBytes] or a head past [MaxHeadBytes] fails as soon as the byte
//     that crosses the limit arrives, not when the head ends.
//   - The result depends only on the bytes, never on how they were split
//     across calls.
//   - Parsing a typical request allocates nothing once the Request's scratch
//     buffers have grown to fit (alloc_test.go holds this).
//   - Every failure is an [*Error] carrying the HTTP status to answer with; no
//     error text contains bytes from the request.
//
// # Decisions
//
//   - Lines must end in CRLF. A bare LF is rejected with 400 ([ErrBareLF]):
//     RFC 9112 §2.2 lets a recipient accept it, but accepting it only helps
//     hand-typed requests and widens the room for request smuggling through
//     front ends that disagree. A CR not followed by LF is rejected too
//     ([ErrBareCR]).
//   - Empty lines (CRLF) before the request line are skipped, as RFC 9112 §2.2
//     recommends; they count towards MaxHeadBytes and towards n.
//   - Any method that is a token (RFC 9110 §9.1) is accepted, case-sensitive,
//     and classified: [Request.Method] names GET, HEAD, OPTIONS, POST, PUT,
//     DELETE, PATCH, CONNECT and TRACE, and is [MethodOther] for any other
//     token ("get" included), whose bytes are in [Request.RawMethod]. A method
//     that is not a token is 400 ([ErrBadMethod]). Whether a method is served,
//     405 or 501 is the server's call, not the parser's.
//   - The method picks the target forms (RFC 9112 §3.2): CONNECT takes only
//     authority-form, host ":" port with the port required (Path nil, Host
//     the authority); asterisk-form "*" is taken only with OPTIONS (Path "*");
//     every other pairing is 400. Other methods take origin-form, or
//     absolute-form with an http or https scheme.
//   - The request-target is held to RFC 3986's characters: bytes such as
//     '"', '<', '{', '|', '\\', '^', '`', '#', spaces, controls and non-ASCII
//     must be percent-encoded (400). Every '%' must begin a valid escape, in
//     the path as well as the query. '[' and ']' may appear only in the
//     authority of an absolute-form target.
//   - Hosts (the Host header and a target's authority) are uri-host
//     [":" port]: an IPv6 address in brackets, or a registered name (IPv4
//     included) of unreserved and sub-delims characters. In the brackets an
//     IPv6 address may carry a zone ID (RFC 6874: "[fe80::1%25en0]"), of
//     unreserved characters and of escapes that decode to one or to a space;
//     [Request.Host] keeps it encoded, as sent. Percent-encoded registered
//     names, other escapes in a zone, IPvFuture and userinfo are rejected
//     (400). An empty Host header is accepted (RFC 9112 §3.2); an empty
//     authority is not (RFC 9110 §4.2.1).
//   - Expect (RFC 9110 §10.1.1): 100-continue, in any case, is met by not
//     waiting for content, since a head we accept announces none; we never
//     send 100 (Continue). Any other expectation, on any Expect line, is 417
//     ([ErrExpectationFailed]), in HTTP/1.0 too, as soon as its line ends (so
//     before a later line's 413). An empty Expect holds no expectation.
//   - Transfer-Encoding and Content-Length are checked as their lines end:
//     Transfer-Encoding, or a Content-Length other than 0, is 413; a
//     malformed or repeated Content-Length (even with an equal value) is 400.
//   - Versions: "HTTP/" DIGIT "." DIGIT other than 1.0 and 1.1 is 505;
//     anything else in that place is 400.
//   - Connection tokens from every Connection header line count; "close" wins
//     over "keep-alive".
//
// # Non-goals
//
// Request bodies (Transfer-Encoding, or a Content-Length other than 0, fail
// with 413), 100 (Continue), HTTP/2 and HTTP/0.9, obs-fold (400), trailers,
// tunnels (CONNECT is parsed, never served), deciding which methods a
// resource allows, percent-decoding of the path or a zone ID, header values
// combined across lines, writing responses, and any knowledge of sockets,
// gnet, streams or audio.
package httpparse
