package server

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// statusText holds the reason phrases of the statuses the server sends.
// (net/http is kept off this package's request path; its table would do.)
func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 431:
		return "Request Header Fields Too Large"
	case 403:
		return "Forbidden"
	case 417:
		return "Expectation Failed"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Unknown"
}

// respFlags shape a response head.
type respFlags uint8

const (
	respClose     respFlags = 1 << iota // send Connection: close (the server closes after it)
	respKeepAlive                       // send Connection: keep-alive (an HTTP/1.0 client asked for it)
	respHead                            // HEAD: the head only, with the body's Content-Length
	respAllow                           // send Allow: GET, HEAD, OPTIONS (405)
)

// retryAfter is what every 503 tells the client to wait, in seconds: a
// store that could not commit, a full server or one stopping are worth
// trying again soon, and a second keeps retries from hammering it.
const retryAfter = "1"

// appendJSONResponse appends a complete response with a JSON body to dst:
// status line, Date (the cached bytes), Content-Type, Content-Length, and the
// body unless flags has respHead. No allocation beyond dst's growth.
func appendJSONResponse(dst []byte, status int, date []byte, flags respFlags, body []byte) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, statusText(status)...)
	dst = append(dst, "\r\nServer: synthcast\r\nDate: "...)
	dst = append(dst, date...)
	dst = append(dst, "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	if flags&respAllow != 0 {
		dst = append(dst, "\r\nAllow: GET, HEAD, OPTIONS"...)
	}
	if status == 503 {
		dst = append(dst, "\r\nRetry-After: "+retryAfter...)
	}
	dst = appendConnection(dst, flags)
	dst = append(dst, "\r\n\r\n"...)
	if flags&respHead == 0 {
		dst = append(dst, body...)
	}
	return dst
}

// appendHTTPDate appends t in the IMF-fixdate form of RFC 9110 (the Date header).
func appendHTTPDate(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, "Mon, 02 Jan 2006 15:04:05 GMT")
}

// appendJSONString appends s as a JSON string literal: quotes, backslash and
// control bytes escaped, invalid UTF-8 replaced by U+FFFD. (strconv.AppendQuote
// writes Go syntax, which is not always JSON.)
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// appendJSONBytes is appendJSONString for a byte slice, without copying it.
func appendJSONBytes(dst []byte, b []byte) []byte {
	return appendJSONString(dst, unsafe.String(unsafe.SliceData(b), len(b)))
}

// appendPreflight appends the answer to OPTIONS on a route: 204 with the
// CORS headers that let a page on any origin call the routes (GET and HEAD,
// with the Icy-MetaData request header) and cache that for a day.
func appendPreflight(dst, date []byte, flags respFlags) []byte {
	dst = append(dst, "HTTP/1.1 204 No Content\r\nServer: synthcast\r\nDate: "...)
	dst = append(dst, date...)
	dst = append(dst, "\r\nAllow: GET, HEAD, OPTIONS"+
		"\r\nAccess-Control-Allow-Origin: *"+
		"\r\nAccess-Control-Allow-Methods: GET, HEAD, OPTIONS"+
		"\r\nAccess-Control-Allow-Headers: Icy-MetaData"+
		"\r\nAccess-Control-Max-Age: 86400"...)
	dst = appendConnection(dst, flags)
	return append(dst, "\r\n\r\n"...)
}

// appendCached appends a response for a fixed document (the key table, the
// page's files): 200 with its type, ETag, no-cache (revalidate each time)
// and the body unless HEAD, or 304 with the ETag alone when the client's
// If-None-Match holds it.
func appendCached(dst, date []byte, flags respFlags, ifNoneMatch []byte, contentType, etag string, body []byte) []byte {
	status := 200
	if len(ifNoneMatch) > 0 && etagMatch(ifNoneMatch, etag) {
		status = 304
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	if status == 304 {
		dst = append(dst, " Not Modified"...)
	} else {
		dst = append(dst, " OK"...)
	}
	dst = append(dst, "\r\nServer: synthcast\r\nDate: "...)
	dst = append(dst, date...)
	dst = append(dst, "\r\nETag: "...)
	dst = append(dst, etag...)
	dst = append(dst, "\r\nCache-Control: no-cache\r\nAccess-Control-Allow-Origin: *"...)
	if status == 200 {
		dst = append(dst, "\r\nContent-Type: "...)
		dst = append(dst, contentType...)
		dst = append(dst, "\r\nContent-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
	}
	dst = appendConnection(dst, flags)
	dst = append(dst, "\r\n\r\n"...)
	if status == 200 && flags&respHead == 0 {
		dst = append(dst, body...)
	}
	return dst
}

// etagMatch reports whether an If-None-Match value lists etag (or is "*"),
// comparing weakly as RFC 9110 §13.1.2 says: W/ prefixes are ignored.
func etagMatch(inm []byte, etag string) bool {
	for len(inm) > 0 {
		var tag []byte
		tag, inm, _ = bytes.Cut(inm, []byte(","))
		tag = bytes.TrimSpace(tag)
		tag = bytes.TrimPrefix(tag, []byte("W/"))
		if string(tag) == "*" || string(tag) == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// appendConnection appends the Connection header flags ask for, if any.
func appendConnection(dst []byte, flags respFlags) []byte {
	switch {
	case flags&respClose != 0:
		return append(dst, "\r\nConnection: close"...)
	case flags&respKeepAlive != 0:
		return append(dst, "\r\nConnection: keep-alive"...)
	}
	return dst
}
