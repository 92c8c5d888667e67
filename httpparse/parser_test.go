package httpparse

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// typical is the request the allocation test and the benchmarks parse.
const typical = "GET /set_param?id=abc&freq=440 HTTP/1.1\r\n" +
	"Host: localhost:8000\r\n" +
	"User-Agent: curl/8.5.0\r\n" +
	"Accept: */*\r\n" +
	"Connection: keep-alive\r\n" +
	"\r\n"

// head returns a request head with the given request line and header lines.
func head(line string, headers ...string) string {
	var b strings.Builder
	b.WriteString(line + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// sized returns an HTTP/1.1 head of exactly size bytes, padded with an X
// header's value.
func sized(size int) string {
	const pre = "GET / HTTP/1.1\r\nHost: h\r\nX: "
	return pre + strings.Repeat("v", size-len(pre)-len("\r\n\r\n")) + "\r\n\r\n"
}

// manyHeaders returns an HTTP/1.1 head with Host plus n-1 more header lines.
func manyHeaders(n int) string {
	hs := []string{"Host: h"}
	for i := 1; i < n; i++ {
		hs = append(hs, fmt.Sprintf("X-%d: %d", i, i))
	}
	return head("GET / HTTP/1.1", hs...)
}

// manyParams returns an HTTP/1.1 head whose query has n parameters, with
// empty segments between them (which do not count).
func manyParams(n int) string {
	var q []string
	for i := range n {
		q = append(q, fmt.Sprintf("k%d=%d&", i, i))
	}
	return head("GET /p?"+strings.Join(q, "&")+" HTTP/1.1", "Host: h")
}

type parseTest struct {
	name string
	in   string
	err  error  // nil for success
	n    int    // bytes consumed on success; 0 means len(in)
	want string // describe(req) on success; "" checks n only
}

var parseTests = []parseTest{
	// Success.
	{
		name: "minimal",
		in:   head("GET / HTTP/1.1", "Host: example.com"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="example.com" keep-alive=true headers=["Host":"example.com"] params=[]`,
	},
	{
		name: "typical",
		in:   typical,
		want: `GET /set_param?id=abc&freq=440 HTTP/1.1 method=GET path="/set_param" query="id=abc&freq=440" host="localhost:8000" keep-alive=true ` +
			`headers=["Host":"localhost:8000" "User-Agent":"curl/8.5.0" "Accept":"*/*" "Connection":"keep-alive"] params=["id"="abc" "freq"="440"]`,
	},
	{
		name: "http10 without host closes",
		in:   head("GET /a HTTP/1.0"),
		want: `GET /a HTTP/1.0 method=GET path="/a" query=nil host=nil keep-alive=false headers=[] params=[]`,
	},
	{
		name: "http10 keep-alive",
		in:   head("HEAD /a HTTP/1.0", "Connection: Keep-Alive"),
		want: `HEAD /a HTTP/1.0 method=HEAD path="/a" query=nil host=nil keep-alive=true headers=["Connection":"Keep-Alive"] params=[]`,
	},
	{
		name: "http10 close wins over keep-alive",
		in:   head("GET / HTTP/1.0", "Connection: keep-alive, close"),
		want: `GET / HTTP/1.0 method=GET path="/" query=nil host=nil keep-alive=false headers=["Connection":"keep-alive, close"] params=[]`,
	},
	{
		name: "http10 tokens from two Connection lines",
		in:   head("GET / HTTP/1.0", "Connection: keep-alive", "connection: Close"),
		want: `GET / HTTP/1.0 method=GET path="/" query=nil host=nil keep-alive=false headers=["Connection":"keep-alive" "connection":"Close"] params=[]`,
	},
	{
		name: "http11 close",
		in:   head("GET / HTTP/1.1", "Host: h", "Connection: close"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="h" keep-alive=false headers=["Host":"h" "Connection":"close"] params=[]`,
	},
	{
		name: "http11 close token in list with OWS",
		in:   head("GET / HTTP/1.1", "Host: h", "Connection: upgrade,\t CLOSE \t"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="h" keep-alive=false headers=["Host":"h" "Connection":"upgrade,\t CLOSE"] params=[]`,
	},
	{
		name: "http11 token must match whole",
		in:   head("GET / HTTP/1.1", "Host: h", "Connection: closed, x-close"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="h" keep-alive=true headers=["Host":"h" "Connection":"closed, x-close"] params=[]`,
	},
	{
		name: "OWS trimmed, inner whitespace and HTAB kept",
		in:   head("GET / HTTP/1.1", "host:h", "X-A: \t v\ta l \t ", "X-B:", "X-C:   "),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="h" keep-alive=true headers=["host":"h" "X-A":"v\ta l" "X-B":"" "X-C":""] params=[]`,
	},
	{
		name: "obs-text in value",
		in:   head("GET / HTTP/1.1", "Host: h", "X: caf\xc3\xa9\xff"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="h" keep-alive=true headers=["Host":"h" "X":"café\xff"] params=[]`,
	},
	{
		name: "leading empty lines skipped and counted",
		in:   "\r\n\r\n" + head("GET / HTTP/1.1", "Host: h"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="h" keep-alive=true headers=["Host":"h"] params=[]`,
	},
	{
		name: "absolute-form authority wins over Host",
		in:   head("GET http://example.com:8080/a/b?x=1 HTTP/1.1", "Host: other"),
		want: `GET http://example.com:8080/a/b?x=1 HTTP/1.1 method=GET path="/a/b" query="x=1" host="example.com:8080" keep-alive=true headers=["Host":"other"] params=["x"="1"]`,
	},
	{
		name: "absolute-form scheme case-insensitive, empty path",
		in:   head("GET HTTPS://h HTTP/1.0"),
		want: `GET HTTPS://h HTTP/1.0 method=GET path="/" query=nil host="h" keep-alive=false headers=[] params=[]`,
	},
	{
		name: "absolute-form query without path",
		in:   head("GET hTTp://h:?x HTTP/1.1", "Host: h"),
		want: `GET hTTp://h:?x HTTP/1.1 method=GET path="/" query="x" host="h:" keep-alive=true headers=["Host":"h"] params=["x"=""]`,
	},
	{
		name: "absolute-form IPv6 literal",
		in:   head("GET http://[::1]:8000/s HTTP/1.1", "Host: [::1]:8000"),
		want: `GET http://[::1]:8000/s HTTP/1.1 method=GET path="/s" query=nil host="[::1]:8000" keep-alive=true headers=["Host":"[::1]:8000"] params=[]`,
	},
	{
		name: "query decoding",
		in:   head("GET /p?a=1&b=&c&&d=x%20y+z%2B&a=2&=v&e=f=g&h=?i%3d HTTP/1.1", "Host: h"),
		want: `GET /p?a=1&b=&c&&d=x%20y+z%2B&a=2&=v&e=f=g&h=?i%3d HTTP/1.1 method=GET path="/p" query="a=1&b=&c&&d=x%20y+z%2B&a=2&=v&e=f=g&h=?i%3d" host="h" keep-alive=true ` +
			`headers=["Host":"h"] params=["a"="1" "b"="" "c"="" "d"="x y z+" "a"="2" ""="v" "e"="f=g" "h"="?i="]`,
	},
	{
		name: "query escapes decode to any byte",
		in:   head("GET /p?k%00=%0d%0A%ff HTTP/1.1", "Host: h"),
		want: `GET /p?k%00=%0d%0A%ff HTTP/1.1 method=GET path="/p" query="k%00=%0d%0A%ff" host="h" keep-alive=true headers=["Host":"h"] params=["k\x00"="\r\n\xff"]`,
	},
	{
		name: "empty query",
		in:   head("GET /p? HTTP/1.1", "Host: h"),
		want: `GET /p? HTTP/1.1 method=GET path="/p" query="" host="h" keep-alive=true headers=["Host":"h"] params=[]`,
	},
	{
		name: "query of empty segments",
		in:   head("GET /?&&& HTTP/1.1", "Host: h"),
		want: `GET /?&&& HTTP/1.1 method=GET path="/" query="&&&" host="h" keep-alive=true headers=["Host":"h"] params=[]`,
	},
	{
		name: "path escapes kept raw",
		in:   head("GET /a%2Fb//c;d=e@f:g HTTP/1.1", "Host: h"),
		want: `GET /a%2Fb//c;d=e@f:g HTTP/1.1 method=GET path="/a%2Fb//c;d=e@f:g" query=nil host="h" keep-alive=true headers=["Host":"h"] params=[]`,
	},
	{
		name: "any token method",
		in:   head("M-SEARCH.x!#$%&'*+^_`|~ / HTTP/1.1", "Host: h"),
		want: "M-SEARCH.x!#$%&'*+^_`|~ / HTTP/1.1 method=other path=\"/\" query=nil host=\"h\" keep-alive=true headers=[\"Host\":\"h\"] params=[]",
	},
	{
		name: "lower-case method is not GET",
		in:   head("get / HTTP/1.1", "Host: h"),
		want: `get / HTTP/1.1 method=other path="/" query=nil host="h" keep-alive=true headers=["Host":"h"] params=[]`,
	},
	{name: "method POST", in: head("POST / HTTP/1.1", "Host: h"), want: `POST / HTTP/1.1 method=POST path="/" `},
	{name: "method PUT", in: head("PUT / HTTP/1.1", "Host: h"), want: `PUT / HTTP/1.1 method=PUT path="/" `},
	{name: "method DELETE", in: head("DELETE / HTTP/1.1", "Host: h"), want: `DELETE / HTTP/1.1 method=DELETE path="/" `},
	{name: "method PATCH", in: head("PATCH / HTTP/1.1", "Host: h"), want: `PATCH / HTTP/1.1 method=PATCH path="/" `},
	{name: "method TRACE", in: head("TRACE / HTTP/1.1", "Host: h"), want: `TRACE / HTTP/1.1 method=TRACE path="/" `},
	{name: "method OPTIONS origin-form", in: head("OPTIONS /set_param HTTP/1.1", "Host: h"), want: `OPTIONS /set_param HTTP/1.1 method=OPTIONS path="/set_param" `},
	{name: "method prefix of a known one", in: head("GE / HTTP/1.1", "Host: h"), want: `GE / HTTP/1.1 method=other path="/" `},
	{name: "method extending a known one", in: head("GETS / HTTP/1.1", "Host: h"), want: `GETS / HTTP/1.1 method=other path="/" `},
	{name: "method registered but not named", in: head("PROPFIND / HTTP/1.1", "Host: h"), want: `PROPFIND / HTTP/1.1 method=other path="/" `},
	{name: "method of one tchar", in: head("~ / HTTP/1.1", "Host: h"), want: `~ / HTTP/1.1 method=other path="/" `},
	{name: "long method", in: head(strings.Repeat("M", 1000)+" / HTTP/1.1", "Host: h"), want: strings.Repeat("M", 1000) + ` / HTTP/1.1 method=other path="/" `},
	{
		name: "asterisk-form with OPTIONS",
		in:   head("OPTIONS * HTTP/1.1", "Host: h"),
		want: `OPTIONS * HTTP/1.1 method=OPTIONS path="*" query=nil host="h" keep-alive=true headers=["Host":"h"] params=[]`,
	},
	{
		name: "asterisk-form HTTP/1.0 without Host",
		in:   head("OPTIONS * HTTP/1.0"),
		want: `OPTIONS * HTTP/1.0 method=OPTIONS path="*" query=nil host=nil keep-alive=false headers=[] params=[]`,
	},
	{
		name: "authority-form with CONNECT",
		in:   head("CONNECT example.com:443 HTTP/1.1", "Host: example.com:443"),
		want: `CONNECT example.com:443 HTTP/1.1 method=CONNECT path=nil query=nil host="example.com:443" keep-alive=true headers=["Host":"example.com:443"] params=[]`,
	},
	{
		name: "authority-form host wins over Host",
		in:   head("CONNECT [::1]:8000 HTTP/1.1", "Host: other"),
		want: `CONNECT [::1]:8000 HTTP/1.1 method=CONNECT path=nil query=nil host="[::1]:8000" keep-alive=true headers=["Host":"other"] params=[]`,
	},
	{
		name: "authority-form with zone ID",
		in:   head("CONNECT [fe80::1%25en0]:443 HTTP/1.0"),
		want: `CONNECT [fe80::1%25en0]:443 HTTP/1.0 method=CONNECT path=nil query=nil host="[fe80::1%25en0]:443" keep-alive=false headers=[] params=[]`,
	},
	{
		name: "Expect 100-continue without content",
		in:   head("GET / HTTP/1.1", "Host: h", "Expect: 100-continue"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="h" keep-alive=true headers=["Host":"h" "Expect":"100-continue"] params=[]`,
	},
	{
		name: "Expect 100-continue case-insensitive, OWS, empty elements",
		in:   head("GET / HTTP/1.1", "Host: h", "expect: \t100-Continue , ,100-CONTINUE,", "EXPECT:"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="h" keep-alive=true headers=["Host":"h" "expect":"100-Continue , ,100-CONTINUE," "EXPECT":""] params=[]`,
	},
	{
		name: "Expect 100-continue with Content-Length 0",
		in:   head("PUT /x HTTP/1.1", "Host: h", "Expect: 100-continue", "Content-Length: 0"),
		want: `PUT /x HTTP/1.1 method=PUT path="/x" `,
	},
	{
		name: "Expect 100-continue in HTTP/1.0 is ignored",
		in:   head("GET / HTTP/1.0", "Expect: 100-continue"),
		want: `GET / HTTP/1.0 method=GET path="/" query=nil host=nil keep-alive=false headers=["Expect":"100-continue"] params=[]`,
	},
	{
		name: "Host IPv6 with zone ID",
		in:   head("GET / HTTP/1.1", "Host: [fe80::1%25en0]:80"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="[fe80::1%25en0]:80" keep-alive=true headers=["Host":"[fe80::1%25en0]:80"] params=[]`,
	},
	{
		name: "Host zone ID of every unreserved class and escapes",
		in:   head("GET / HTTP/1.1", "Host: [::ffff:1.2.3.4%25Eth-0.1_~%20%2d%7E]"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="[::ffff:1.2.3.4%25Eth-0.1_~%20%2d%7E]" `,
	},
	{
		name: "absolute-form with zone ID",
		in:   head("GET http://[fe80::a%2512]:8000/s?x HTTP/1.1", "Host: [fe80::a%2512]:8000"),
		want: `GET http://[fe80::a%2512]:8000/s?x HTTP/1.1 method=GET path="/s" query="x" host="[fe80::a%2512]:8000" `,
	},
	{
		name: "empty Host allowed",
		in:   head("GET / HTTP/1.1", "Host:"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="" keep-alive=true headers=["Host":""] params=[]`,
	},
	{
		name: "Content-Length zero",
		in:   head("GET / HTTP/1.1", "Host: h", "Content-Length: 000"),
		want: `GET / HTTP/1.1 method=GET path="/" query=nil host="h" keep-alive=true headers=["Host":"h" "Content-Length":"000"] params=[]`,
	},
	{
		name: "pipelined bytes after the head are not consumed",
		in:   head("GET /1 HTTP/1.1", "Host: h") + "GET /2 HTTP/1.1\r\n",
		n:    len(head("GET /1 HTTP/1.1", "Host: h")),
		want: `GET /1 HTTP/1.1 method=GET path="/1" query=nil host="h" keep-alive=true headers=["Host":"h"] params=[]`,
	},
	{name: "target of MaxTargetBytes", in: head("GET /"+strings.Repeat("a", MaxTargetBytes-1)+" HTTP/1.1", "Host: h")},
	{name: "head of MaxHeadBytes", in: sized(MaxHeadBytes)},
	{name: "MaxHeaders headers", in: manyHeaders(MaxHeaders)},
	{name: "MaxParams params", in: manyParams(MaxParams)},

	// Incomplete.
	{name: "empty", in: "", err: ErrNeedMore},
	{name: "only empty lines", in: "\r\n\r\n\r", err: ErrNeedMore},
	{name: "no blank line", in: "GET / HTTP/1.1\r\nHost: h\r\n", err: ErrNeedMore},
	{name: "blank line without LF", in: "GET / HTTP/1.1\r\nHost: h\r\n\r", err: ErrNeedMore},
	{name: "target at the limit without space", in: "GET /" + strings.Repeat("a", MaxTargetBytes-1), err: ErrNeedMore},
	{name: "head at the limit without end", in: sized(MaxHeadBytes + 10)[:MaxHeadBytes], err: ErrNeedMore},

	// Request line.
	{name: "method with separator", in: head("G(T / HTTP/1.1", "Host: h"), err: ErrBadMethod},
	{name: "method with non-ASCII", in: head("G\xc3\x89T / HTTP/1.1", "Host: h"), err: ErrBadMethod},
	{name: "empty method", in: head(" / HTTP/1.1", "Host: h"), err: ErrBadMethod},
	{name: "method then tab", in: head("GET\t/ HTTP/1.1", "Host: h"), err: ErrBadMethod},
	{name: "method alone", in: "GET\r\n", err: ErrBadRequestLine},
	{name: "empty target", in: head("GET  / HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "empty CONNECT target", in: head("CONNECT  HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "no version", in: "GET /\r\n\r\n", err: ErrBadRequestLine},
	{name: "CR in target", in: "GET /a\rb HTTP/1.1\r\n", err: ErrBadRequestLine},
	{name: "space inside target", in: head("GET /a b HTTP/1.1", "Host: h"), err: ErrBadVersion},
	{name: "control byte in target", in: head("GET /a\x01b HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "NUL in target", in: head("GET /\x00 HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "DEL in target", in: head("GET /\x7f HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "tab in target", in: head("GET /a\tb HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "non-ASCII in target", in: head("GET /caf\xc3\xa9 HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "quote in target", in: head(`GET /a"b HTTP/1.1`, "Host: h"), err: ErrBadTarget},
	{name: "brace in query", in: head("GET /?a={} HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "fragment", in: head("GET /a#b HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "bracket in path", in: head("GET /a[1] HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "bracket in query", in: head("GET /?a[]=1 HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "asterisk-form without OPTIONS", in: head("GET * HTTP/1.1", "Host: h"), err: ErrUnsupportedTarget},
	{name: "asterisk-form with lower-case options", in: head("options * HTTP/1.1", "Host: h"), err: ErrUnsupportedTarget},
	{name: "asterisk-form with more", in: head("OPTIONS *x HTTP/1.1", "Host: h"), err: ErrUnsupportedTarget},
	{name: "asterisk-form with query", in: head("OPTIONS *?a HTTP/1.1", "Host: h"), err: ErrUnsupportedTarget},
	{name: "authority-form without CONNECT", in: head("GET example.com:443 HTTP/1.1", "Host: example.com:443"), err: ErrUnsupportedTarget},
	{name: "authority-form with OPTIONS", in: head("OPTIONS example.com:443 HTTP/1.1", "Host: h"), err: ErrUnsupportedTarget},
	{name: "CONNECT without port", in: head("CONNECT example.com HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "CONNECT with empty port", in: head("CONNECT example.com: HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "CONNECT IP literal without port", in: head("CONNECT [::1] HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "CONNECT origin-form", in: head("CONNECT / HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "CONNECT absolute-form", in: head("CONNECT http://h:80/ HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "CONNECT asterisk-form", in: head("CONNECT * HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "CONNECT with path", in: head("CONNECT h:80/x HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "CONNECT with userinfo", in: head("CONNECT u@h:80 HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "CONNECT with bad zone ID", in: head("CONNECT [fe80::1%en0]:80 HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "absolute-form zone ID with bare percent", in: head("GET http://[fe80::1%en0]/ HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "absolute-form zone ID escaping a slash", in: head("GET http://[fe80::1%25a%2Fb]/ HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "other scheme", in: head("GET ftp://h/ HTTP/1.1", "Host: h"), err: ErrUnsupportedTarget},
	{name: "scheme without slashes", in: head("GET http:/h/ HTTP/1.1", "Host: h"), err: ErrUnsupportedTarget},
	{name: "relative target", in: head("GET a/b HTTP/1.1", "Host: h"), err: ErrUnsupportedTarget},
	{name: "absolute-form empty authority", in: head("GET http:///a HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "absolute-form userinfo", in: head("GET http://u:p@h/ HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "absolute-form bad port", in: head("GET http://h:8x/ HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "absolute-form escaped host", in: head("GET http://%68/ HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "absolute-form empty IP literal", in: head("GET http://[]/ HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "absolute-form unclosed IP literal", in: head("GET http://[::1/ HTTP/1.1", "Host: h"), err: ErrBadTarget},
	{name: "query escape not hex", in: head("GET /p?a=%zz HTTP/1.1", "Host: h"), err: ErrBadEscape},
	{name: "query escape truncated", in: head("GET /p?a=%4 HTTP/1.1", "Host: h"), err: ErrBadEscape},
	{name: "query escape bare percent", in: head("GET /p?a% HTTP/1.1", "Host: h"), err: ErrBadEscape},
	{name: "path escape truncated", in: head("GET /a%2?x HTTP/1.1", "Host: h"), err: ErrBadEscape},
	{name: "path escape not hex", in: head("GET /a%g0 HTTP/1.1", "Host: h"), err: ErrBadEscape},
	{name: "too many params", in: manyParams(MaxParams + 1), err: ErrTooManyParams},
	{name: "target over MaxTargetBytes", in: head("GET /"+strings.Repeat("a", MaxTargetBytes)+" HTTP/1.1", "Host: h"), err: ErrTargetTooLong},
	{name: "target over MaxTargetBytes unfinished", in: "GET /" + strings.Repeat("a", MaxTargetBytes), err: ErrTargetTooLong},
	{name: "version 1.2", in: head("GET / HTTP/1.2", "Host: h"), err: ErrVersionNotSupported},
	{name: "version 2.0", in: head("GET / HTTP/2.0", "Host: h"), err: ErrVersionNotSupported},
	{name: "version 0.9", in: head("GET / HTTP/0.9"), err: ErrVersionNotSupported},
	{name: "version lower case", in: head("GET / http/1.1", "Host: h"), err: ErrBadVersion},
	{name: "version two digits", in: head("GET / HTTP/1.10", "Host: h"), err: ErrBadVersion},
	{name: "version short", in: head("GET / HTTP/1", "Host: h"), err: ErrBadVersion},
	{name: "version not digit", in: head("GET / HTTP/x.1", "Host: h"), err: ErrBadVersion},
	{name: "version trailing space", in: head("GET / HTTP/1.1 ", "Host: h"), err: ErrBadVersion},
	{name: "version then bare LF", in: "GET / HTTP/1.1\nHost: h\n\n", err: ErrBareLF},
	{name: "version then bare CR", in: "GET / HTTP/1.1\r\rHost: h\r\n\r\n", err: ErrBareCR},
	{name: "leading bare LF", in: "\n" + head("GET / HTTP/1.1", "Host: h"), err: ErrBareLF},
	{name: "leading bare CR", in: "\r\r\n" + head("GET / HTTP/1.1", "Host: h"), err: ErrBareCR},

	// Header lines.
	{name: "space before colon", in: head("GET / HTTP/1.1", "Host : h"), err: ErrSpaceBeforeColon},
	{name: "tab before colon", in: head("GET / HTTP/1.1", "Host\t: h"), err: ErrSpaceBeforeColon},
	{name: "obs-fold", in: head("GET / HTTP/1.1", "Host: h", "X: a", " b"), err: ErrObsFold},
	{name: "obs-fold with tab", in: head("GET / HTTP/1.1", "Host: h", "X: a", "\tb"), err: ErrObsFold},
	{name: "whitespace before first header", in: head("GET / HTTP/1.1", " Host: h"), err: ErrObsFold},
	{name: "empty header name", in: head("GET / HTTP/1.1", "Host: h", ": v"), err: ErrBadHeaderName},
	{name: "separator in header name", in: head("GET / HTTP/1.1", "Host: h", "X(Y): v"), err: ErrBadHeaderName},
	{name: "header line without colon", in: head("GET / HTTP/1.1", "Host: h", "X"), err: ErrBadHeaderName},
	{name: "NUL in header name", in: head("GET / HTTP/1.1", "Host: h", "X\x00: v"), err: ErrBadHeaderName},
	{name: "control byte in value", in: head("GET / HTTP/1.1", "Host: h", "X: a\x01b"), err: ErrBadHeaderValue},
	{name: "NUL in value", in: head("GET / HTTP/1.1", "Host: h", "X: \x00"), err: ErrBadHeaderValue},
	{name: "DEL in value", in: head("GET / HTTP/1.1", "Host: h", "X: a\x7f"), err: ErrBadHeaderValue},
	{name: "bare CR in value", in: head("GET / HTTP/1.1", "Host: h", "X: a\rb"), err: ErrBareCR},
	{name: "bare LF in value", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", err: ErrBareLF},
	{name: "bare LF after OWS", in: "GET / HTTP/1.1\r\nHost: h\r\nX: \n\r\n", err: ErrBareLF},
	{name: "bare LF blank line", in: "GET / HTTP/1.1\r\nHost: h\r\n\n", err: ErrBareLF},
	{name: "bare CR blank line", in: "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", err: ErrBareCR},
	{name: "missing Host", in: head("GET / HTTP/1.1", "X: h"), err: ErrMissingHost},
	{name: "missing Host absolute-form", in: head("GET http://h/ HTTP/1.1"), err: ErrMissingHost},
	{name: "two Host headers", in: head("GET / HTTP/1.1", "Host: h", "X: y", "HOST: h"), err: ErrDuplicateHost},
	{name: "two Host headers HTTP/1.0", in: head("GET / HTTP/1.0", "host: a", "host: b"), err: ErrDuplicateHost},
	{name: "Host with space", in: head("GET / HTTP/1.1", "Host: a b"), err: ErrBadHost},
	{name: "Host with path", in: head("GET / HTTP/1.1", "Host: h/x"), err: ErrBadHost},
	{name: "Host with userinfo", in: head("GET / HTTP/1.1", "Host: u@h"), err: ErrBadHost},
	{name: "Host with bad port", in: head("GET / HTTP/1.1", "Host: h:80:80"), err: ErrBadHost},
	{name: "Host zone ID with bare percent", in: head("GET / HTTP/1.1", "Host: [fe80::1%en0]:80"), err: ErrBadHost},
	{name: "Host empty zone ID", in: head("GET / HTTP/1.1", "Host: [fe80::1%25]:80"), err: ErrBadHost},
	{name: "Host zone ID truncated escape", in: head("GET / HTTP/1.1", "Host: [fe80::1%25en%2]"), err: ErrBadHost},
	{name: "Host zone ID escaping a NUL", in: head("GET / HTTP/1.1", "Host: [fe80::1%25en%00]"), err: ErrBadHost},
	{name: "Host zone ID escaping CRLF", in: head("GET / HTTP/1.1", "Host: [fe80::1%25en%0D%0A]"), err: ErrBadHost},
	{name: "Host zone ID escaping non-ASCII", in: head("GET / HTTP/1.1", "Host: [fe80::1%25caf%C3%A9]"), err: ErrBadHost},
	{name: "Host zone ID escaping a percent", in: head("GET / HTTP/1.1", "Host: [fe80::1%25a%25b]"), err: ErrBadHost},
	{name: "Host zone ID with raw space", in: head("GET / HTTP/1.1", "Host: [fe80::1%25en 0]"), err: ErrBadHost},
	{name: "Host zone ID with colon", in: head("GET / HTTP/1.1", "Host: [fe80::1%25en:0]"), err: ErrBadHost},
	{name: "Host zone ID on IPv4", in: head("GET / HTTP/1.1", "Host: [1.2.3.4%25en0]"), err: ErrBadHost},
	{name: "Host zone ID without address", in: head("GET / HTTP/1.1", "Host: [%25en0]"), err: ErrBadHost},
	{name: "Host zone ID outside brackets", in: head("GET / HTTP/1.1", "Host: fe80::1%25en0"), err: ErrBadHost},
	{name: "Expect other", in: head("GET / HTTP/1.1", "Host: h", "Expect: foo"), err: ErrExpectationFailed},
	{name: "Expect 100-continue and other", in: head("GET / HTTP/1.1", "Host: h", "Expect: 100-continue, foo"), err: ErrExpectationFailed},
	{name: "Expect 100-continue with parameter", in: head("GET / HTTP/1.1", "Host: h", "Expect: 100-continue;a=b"), err: ErrExpectationFailed},
	{name: "Expect 100-continue quoted", in: head("GET / HTTP/1.1", "Host: h", `Expect: "100-continue"`), err: ErrExpectationFailed},
	{name: "Expect 100 continue", in: head("GET / HTTP/1.1", "Host: h", "Expect: 100 continue"), err: ErrExpectationFailed},
	{name: "Expect 100-continues", in: head("GET / HTTP/1.1", "Host: h", "Expect: 100-continues"), err: ErrExpectationFailed},
	{name: "Expect other on a second line", in: head("GET / HTTP/1.1", "Host: h", "Expect: 100-continue", "expect: x"), err: ErrExpectationFailed},
	{name: "Expect other in HTTP/1.0", in: head("GET / HTTP/1.0", "Expect: foo"), err: ErrExpectationFailed},
	{name: "Expect other fails at its line", in: "GET / HTTP/1.1\r\nExpect: foo\r\n", err: ErrExpectationFailed},
	{name: "Expect other before content", in: head("PUT / HTTP/1.1", "Host: h", "Expect: foo", "Content-Length: 5"), err: ErrExpectationFailed},
	{name: "Expect 100-continue with content", in: head("PUT / HTTP/1.1", "Host: h", "Expect: 100-continue", "Content-Length: 5"), err: ErrBodyNotAccepted},
	{name: "content before Expect other", in: head("PUT / HTTP/1.1", "Host: h", "Content-Length: 5", "Expect: foo"), err: ErrBodyNotAccepted},
	{name: "missing Host with CONNECT", in: head("CONNECT h:443 HTTP/1.1"), err: ErrMissingHost},
	{name: "Transfer-Encoding", in: head("POST / HTTP/1.1", "Host: h", "Transfer-Encoding: chunked"), err: ErrBodyNotAccepted},
	{name: "Transfer-Encoding identity", in: head("GET / HTTP/1.0", "transfer-encoding: identity"), err: ErrBodyNotAccepted},
	{name: "Content-Length non-zero", in: head("POST / HTTP/1.1", "Host: h", "Content-Length: 5"), err: ErrBodyNotAccepted},
	{name: "Content-Length max int64", in: head("POST / HTTP/1.1", "Host: h", "Content-Length: 9223372036854775807"), err: ErrBodyNotAccepted},
	{name: "Content-Length overflow", in: head("POST / HTTP/1.1", "Host: h", "Content-Length: 9223372036854775808"), err: ErrBadContentLength},
	{name: "Content-Length huge", in: head("POST / HTTP/1.1", "Host: h", "Content-Length: 99999999999999999999999"), err: ErrBadContentLength},
	{name: "Content-Length negative", in: head("POST / HTTP/1.1", "Host: h", "Content-Length: -1"), err: ErrBadContentLength},
	{name: "Content-Length plus", in: head("POST / HTTP/1.1", "Host: h", "Content-Length: +0"), err: ErrBadContentLength},
	{name: "Content-Length trailing junk", in: head("POST / HTTP/1.1", "Host: h", "Content-Length: 0x"), err: ErrBadContentLength},
	{name: "Content-Length list", in: head("POST / HTTP/1.1", "Host: h", "Content-Length: 0, 0"), err: ErrBadContentLength},
	{name: "Content-Length empty", in: head("POST / HTTP/1.1", "Host: h", "Content-Length: "), err: ErrBadContentLength},
	{name: "Content-Length twice equal", in: head("GET / HTTP/1.1", "Host: h", "Content-Length: 0", "content-length: 0"), err: ErrDuplicateLength},
	{name: "head over MaxHeadBytes", in: sized(MaxHeadBytes + 1), err: ErrHeadTooLarge},
	{name: "head over MaxHeadBytes unfinished", in: sized(MaxHeadBytes + 1)[:MaxHeadBytes+1], err: ErrHeadTooLarge},
	{name: "leading empty lines count towards MaxHeadBytes", in: strings.Repeat("\r\n", MaxHeadBytes/2) + "G", err: ErrHeadTooLarge},
	{name: "too many headers", in: manyHeaders(MaxHeaders + 1), err: ErrTooManyHeaders},

	// Regressions: one per bug found.
	{name: "IP literal that is not IPv6 (found by FuzzNetHTTP)", in: head("GET http://[1.2.3.4]/ HTTP/1.0"), err: ErrBadTarget},
	{name: "Host IP literal that is not IPv6 (found by FuzzNetHTTP)", in: head("GET / HTTP/1.1", "Host: [1.2.3.4]:80"), err: ErrBadHost},
}

// TestParse runs every row whole, byte by byte, and split in two at every
// offset: all must give the row's result.
func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			want := expected(tt)
			whole := parseWhole(in)
			if got := whole.String(); !matches(got, want) {
				t.Fatalf("Parse(%.80q) = %s; want %s", tt.in, got, want)
			}
			if bb, _ := parseByteByByte(in); !bb.equal(whole) {
				t.Errorf("byte by byte: Parse(%.80q) = %s; want %s", tt.in, bb, whole)
			}
			for _, k := range splitOffsets(len(in)) {
				if s := parseSplit(in, k); !s.equal(whole) {
					t.Fatalf("split at %d: Parse(%.80q) = %s; want %s", k, tt.in, s, whole)
				}
			}
		})
	}
}

// expected renders the result a row asks for. For a success row without
// want, only the "n=N " prefix is fixed.
func expected(tt parseTest) string {
	if tt.err != nil {
		return outcome(0, tt.err, nil)
	}
	n := tt.n
	if n == 0 {
		n = len(tt.in)
	}
	s := fmt.Sprintf("n=%d ", n)
	if tt.want != "" {
		s += tt.want
	}
	return s
}

func matches(got, want string) bool {
	if strings.HasSuffix(want, " ") {
		return strings.HasPrefix(got, want)
	}
	return got == want
}

// TestPipelining parses three requests from one buffer, then a fourth whose
// end arrives later, as a gnet loop would: Discard(n) after each.
func TestPipelining(t *testing.T) {
	reqs := []string{
		head("GET /create_stream HTTP/1.1", "Host: h"),
		head("GET /set_param?id=x&freq=440 HTTP/1.1", "Host: h", "X: 1"),
		head("HEAD /params?id=x HTTP/1.1", "Host: h", "Connection: close"),
		head("GET /stream?id=x HTTP/1.1", "Host: h"),
	}
	wantPaths := []string{"/create_stream", "/set_param", "/params", "/stream"}
	all := strings.Join(reqs, "")
	cut := len(all) - 5
	inbound := []byte(all[:cut]) // what the socket has delivered so far

	var p Parser
	var req Request
	for i := range 3 {
		n, err := p.Parse(inbound, &req)
		if err != nil || n != len(reqs[i]) || string(req.Path) != wantPaths[i] {
			t.Fatalf("request %d: Parse = %d, %v, path %q; want %d, nil, path %q", i, n, err, req.Path, len(reqs[i]), wantPaths[i])
		}
		inbound = inbound[n:] // Discard(n)
	}
	if req.KeepAlive {
		t.Errorf("request 2: KeepAlive = true; want false (Connection: close)")
	}
	if n, err := p.Parse(inbound, &req); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("request 3, partial: Parse = %d, %v; want 0, ErrNeedMore", n, err)
	}
	inbound = append(inbound, all[cut:]...) // more bytes arrive
	n, err := p.Parse(inbound, &req)
	if err != nil || n != len(inbound) || string(req.Path) != wantPaths[3] {
		t.Fatalf("request 3: Parse = %d, %v, path %q; want %d, nil, path %q", n, err, req.Path, len(inbound), wantPaths[3])
	}
}

// TestLinearWork feeds a large head one byte at a time and checks that every
// byte was examined once. A parser that rescanned from the start of the
// buffer on each call would examine about len²/2 bytes.
func TestLinearWork(t *testing.T) {
	for _, in := range []string{sized(MaxHeadBytes), manyHeaders(MaxHeaders), manyParams(MaxParams), typical} {
		got, p := parseByteByByte([]byte(in))
		if got.err != nil {
			t.Fatalf("Parse(%.80q) = %s; want success", in, got)
		}
		if p.work != len(in) {
			t.Errorf("Parse(%.80q) byte by byte examined %d bytes; want %d", in, p.work, len(in))
		}
	}
}

// TestNoRescan feeds a head one byte at a time and, after each call,
// overwrites every line already scanned with NUL bytes. A parser that
// resumes where it stopped never reads them again and still accepts the
// head; one that rescans from the start of the buffer trips over them.
func TestNoRescan(t *testing.T) {
	for _, in := range []string{typical, manyHeaders(MaxHeaders), "\r\n\r\n" + head("GET /a HTTP/1.0", "X: y")} {
		buf := []byte(in)
		var p Parser
		var req Request
		var n int
		var err error
		for k := 1; k <= len(buf); k++ {
			n, err = p.Parse(buf[:k], &req)
			if !errors.Is(err, ErrNeedMore) {
				break
			}
			lineStart := bytes.LastIndexByte(buf[:k], '\n') + 1
			clear(buf[:lineStart])
		}
		if err != nil || n != len(in) {
			t.Errorf("Parse(%.80q) byte by byte, scanned lines cleared = %d, %v; want %d, nil", in, n, err, len(in))
		}
	}
}

// TestScanOffsetAdvances checks that after each ErrNeedMore the parser's
// resume offset is the end of what it was given.
func TestScanOffsetAdvances(t *testing.T) {
	in := []byte(typical)
	var p Parser
	var req Request
	for k := 1; k < len(in); k++ {
		if _, err := p.Parse(in[:k], &req); !errors.Is(err, ErrNeedMore) {
			t.Fatalf("Parse(%.80q) = %v; want ErrNeedMore", in[:k], err)
		}
		if p.off != k {
			t.Fatalf("after Parse(%.80q): offset %d; want %d", in[:k], p.off, k)
		}
	}
}

// TestLimitsFailBeforeHeadEnds checks that each limit fails when the byte
// that crosses it arrives: the prefix one byte shorter needs more.
func TestLimitsFailBeforeHeadEnds(t *testing.T) {
	tests := []struct {
		in  string // the shortest input that fails
		err error
	}{
		{"GET /" + strings.Repeat("a", MaxTargetBytes), ErrTargetTooLong},
		{sized(MaxHeadBytes + 10)[:MaxHeadBytes+1], ErrHeadTooLarge},
		{manyHeaders(MaxHeaders + 1)[:strings.Index(manyHeaders(MaxHeaders+1), "X-64")+1], ErrTooManyHeaders},
	}
	for _, tt := range tests {
		var p Parser
		var req Request
		short := tt.in[:len(tt.in)-1]
		if n, err := p.Parse([]byte(short), &req); !errors.Is(err, ErrNeedMore) {
			t.Errorf("Parse(%.80q) = %d, %v; want 0, ErrNeedMore", short, n, err)
		}
		if n, err := p.Parse([]byte(tt.in), &req); err != tt.err {
			t.Errorf("Parse(%.80q) = %d, %v; want 0, %v", tt.in, n, err, tt.err)
		}
	}
}

func TestErrorIsFinalUntilReset(t *testing.T) {
	var p Parser
	var req Request
	if _, err := p.Parse([]byte("G(T"), &req); err != ErrBadMethod {
		t.Fatalf(`Parse("G(T") = %v; want %v`, err, ErrBadMethod)
	}
	good := []byte(head("GET / HTTP/1.1", "Host: h"))
	if _, err := p.Parse(good, &req); err != ErrBadMethod {
		t.Fatalf("Parse(good) after an error = %v; want %v again", err, ErrBadMethod)
	}
	p.Reset()
	if n, err := p.Parse(good, &req); err != nil || n != len(good) {
		t.Fatalf("Parse(good) after Reset = %d, %v; want %d, nil", n, err, len(good))
	}
}

func TestResetDiscardsPartialHead(t *testing.T) {
	var p Parser
	var req Request
	if _, err := p.Parse([]byte("POST /x HTTP/1.0\r\nContent-Le"), &req); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("Parse(partial) = %v; want ErrNeedMore", err)
	}
	p.Reset()
	in := []byte(head("GET /y HTTP/1.1", "Host: h"))
	if n, err := p.Parse(in, &req); err != nil || n != len(in) || req.Method != MethodGet {
		t.Fatalf("Parse after Reset = %d, %v, method %v; want %d, nil, GET", n, err, req.Method, len(in))
	}
}

// TestShorterBufferStartsOver pins what Parse does when the caller breaks
// the contract and passes fewer bytes than it already scanned.
func TestShorterBufferStartsOver(t *testing.T) {
	var p Parser
	var req Request
	if _, err := p.Parse([]byte("GET /aaaaaaaaaaaaa"), &req); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("Parse(partial) = %v; want ErrNeedMore", err)
	}
	in := []byte(head("GET / HTTP/1.1", "Host: h"))[:5]
	if _, err := p.Parse(in, &req); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("Parse(shorter) = %v; want ErrNeedMore", err)
	}
	in = []byte(head("PUT /b HTTP/1.1", "Host: h"))
	if n, err := p.Parse(in, &req); err != nil || n != len(in) || string(req.Target) != "/b" {
		t.Fatalf("Parse = %d, %v, target %q; want %d, nil, /b", n, err, req.Target, len(in))
	}
}

// TestRequestUntouchedOnError checks that a failed Parse leaves the previous
// request's fields in place.
func TestRequestUntouchedOnError(t *testing.T) {
	var p Parser
	var req Request
	good := []byte(typical)
	if _, err := p.Parse(good, &req); err != nil {
		t.Fatal(err)
	}
	before := describe(&req)
	for _, in := range []string{
		"GET /x?a=1 HTTP/1.1\r\nHost: h\r\n", // incomplete
		head("GET /x?a=1 HTTP/1.1"),          // fails at the end: no Host
		head("GET /x?a=1 HTTP/1.1", "Host: h", "Content-Length: 1"),
	} {
		p.Reset()
		if _, err := p.Parse([]byte(in), &req); err == nil {
			t.Fatalf("Parse(%.80q) = nil error; want one", in)
		}
		if after := describe(&req); after != before {
			t.Errorf("after Parse(%.80q) failed, request = %s; want %s", in, after, before)
		}
	}
}

// TestRequestReuse parses a large request then a small one into the same
// Request: nothing of the first may show through.
func TestRequestReuse(t *testing.T) {
	var p Parser
	var req Request
	big := []byte(manyHeaders(10)[:len("GET /")] + "?a=1&b=2&c=3" + manyHeaders(10)[len("GET /"):])
	if _, err := p.Parse(big, &req); err != nil {
		t.Fatalf("Parse(%.80q) = %v", big, err)
	}
	if req.NumHeaders() != 10 || req.NumParams() != 3 {
		t.Fatalf("Parse(%.80q): %d headers, %d params; want 10, 3", big, req.NumHeaders(), req.NumParams())
	}
	small := []byte(head("GET /s HTTP/1.0"))
	if _, err := p.Parse(small, &req); err != nil {
		t.Fatalf("Parse(%q) = %v", small, err)
	}
	want := `GET /s HTTP/1.0 method=GET path="/s" query=nil host=nil keep-alive=false headers=[] params=[]`
	if got := describe(&req); got != want {
		t.Errorf("Parse(%q) = %s; want %s", small, got, want)
	}
	for i := range req.hdr {
		if req.hdr[i].name != nil || req.hdr[i].value != nil {
			t.Fatalf("header slot %d still holds a view of the old buffer", i)
		}
	}
	if _, ok := req.Query("a"); ok {
		t.Errorf(`Query("a") found a parameter of the previous request`)
	}
}

func TestHeaderLookup(t *testing.T) {
	in := []byte(head("GET / HTTP/1.1", "Host: h", "X-Token: one", "x-token: two", "Empty:", "ACCEPT: */*"))
	var p Parser
	var req Request
	if _, err := p.Parse(in, &req); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want []byte
	}{
		{"x-token", []byte("one")},
		{"X-TOKEN", []byte("one")},
		{"Accept", []byte("*/*")},
		{"empty", []byte{}},
		{"missing", nil},
		{"X-Toke", nil},
		{"X-Token ", nil},
	}
	for _, tt := range tests {
		got := req.Header(tt.name)
		if !bytes.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("Header(%q) = %q (nil %t); want %q (nil %t)", tt.name, got, got == nil, tt.want, tt.want == nil)
		}
	}
	if name, value := req.HeaderAt(2); string(name) != "x-token" || string(value) != "two" {
		t.Errorf("HeaderAt(2) = %q, %q; want x-token, two", name, value)
	}
}

func TestHeaderAtOutOfRangePanics(t *testing.T) {
	var req Request
	defer func() {
		if recover() == nil {
			t.Errorf("HeaderAt(0) on an empty Request did not panic")
		}
	}()
	req.HeaderAt(0)
}

func TestQueryAndParams(t *testing.T) {
	in := []byte(head("GET /p?id=abc&freq=440&freq=880&flag&name=a+b%21 HTTP/1.1", "Host: h"))
	var p Parser
	var req Request
	if _, err := p.Parse(in, &req); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"id", "abc", true},
		{"freq", "440", true},
		{"flag", "", true},
		{"name", "a b!", true},
		{"Id", "", false},
		{"missing", "", false},
	}
	for _, tt := range tests {
		got, ok := req.Query(tt.key)
		if string(got) != tt.want || ok != tt.wantOK {
			t.Errorf("Query(%q) = %q, %t; want %q, %t", tt.key, got, ok, tt.want, tt.wantOK)
		}
	}
	if k, v := req.Param(2); string(k) != "freq" || string(v) != "880" {
		t.Errorf("Param(2) = %q, %q; want freq, 880", k, v)
	}
}

func TestIsMethod(t *testing.T) {
	for _, tt := range []struct {
		line string
		want map[string]bool
	}{
		{"GET / HTTP/1.1", map[string]bool{"GET": true, "get": false, "GE": false, "GETS": false, "HEAD": false}},
		{"M-SEARCH / HTTP/1.1", map[string]bool{"M-SEARCH": true, "m-search": false, "other": false, "": false}},
	} {
		in := []byte(head(tt.line, "Host: h"))
		var p Parser
		var req Request
		if _, err := p.Parse(in, &req); err != nil {
			t.Fatal(err)
		}
		for m, want := range tt.want {
			if got := req.IsMethod(m); got != want {
				t.Errorf("after Parse(%q): IsMethod(%q) = %t; want %t", in, m, got, want)
			}
		}
	}
}

// TestMethod checks that each named method is classified from its token and
// back, and that anything else a token may be is MethodOther.
func TestMethod(t *testing.T) {
	for m := MethodGet; m <= MethodTrace; m++ {
		if got := methodOf([]byte(m.String())); got != m {
			t.Errorf("methodOf(%q) = %v; want %v", m.String(), got, m)
		}
	}
	for _, tok := range []string{"", "get", "Get", "GE", "GETS", "GET ", "HEA", "OPTION", "PROPFIND", "M-SEARCH", "other", "Method(10)"} {
		if got := methodOf([]byte(tok)); got != MethodOther {
			t.Errorf("methodOf(%q) = %v; want %v", tok, got, MethodOther)
		}
	}
	if got, want := MethodOther.String(), "other"; got != want {
		t.Errorf("MethodOther.String() = %q; want %q", got, want)
	}
	for _, m := range []Method{-1, MethodTrace + 1} {
		if got, want := m.String(), fmt.Sprintf("Method(%d)", int(m)); got != want {
			t.Errorf("Method(%d).String() = %q; want %q", int(m), got, want)
		}
	}
	var req Request
	if req.Method != MethodOther {
		t.Errorf("zero Request: Method = %v; want %v", req.Method, MethodOther)
	}
}

// TestOnlyContinue pins the Expect rule element by element.
func TestOnlyContinue(t *testing.T) {
	for v, want := range map[string]bool{
		"": true, "100-continue": true, "100-CONTINUE": true, ",": true, " , ,": true,
		"100-continue,100-continue": true, "\t100-continue\t": true, ", 100-continue ,": true,
		"foo": false, "100-continue,foo": false, "foo, 100-continue": false, "100-continue;x": false,
		"100-continue=1": false, `"100-continue"`: false, "100-continu": false, "100-continuee": false,
		"100 continue": false, "100-continue, ,x": false,
	} {
		if got := onlyContinue([]byte(v)); got != want {
			t.Errorf("onlyContinue(%q) = %t; want %t", v, got, want)
		}
	}
}

func TestValidAuthorityForm(t *testing.T) {
	for a, want := range map[string]bool{
		"h:80": true, "example.com:443": true, "1.2.3.4:0": true, "[::1]:8000": true, "[fe80::1%25en0]:1": true,
		"h": false, "h:": false, "[::1]": false, "[::1]:": false, ":80": false, "h:80:80": false, "h:8x": false,
		"u@h:80": false, "h:80/": false, "/": false, "*": false, "[fe80::1%en0]:1": false, "": false,
	} {
		if got := validAuthorityForm([]byte(a)); got != want {
			t.Errorf("validAuthorityForm(%q) = %t; want %t", a, got, want)
		}
	}
}

// TestViewsAreCapped checks that appending to a returned view cannot
// overwrite the bytes that follow it in the caller's buffer.
func TestViewsAreCapped(t *testing.T) {
	in := []byte(typical)
	orig := string(in)
	var p Parser
	var req Request
	if _, err := p.Parse(in, &req); err != nil {
		t.Fatal(err)
	}
	_ = append(req.RawMethod, "XXXX"...)
	_ = append(req.Path, "XXXX"...)
	_ = append(req.Host, "XXXX"...)
	_ = append(req.Header("user-agent"), "XXXX"...)
	k, v := req.Param(0)
	_ = append(k, "XXXX"...)
	v2 := append(v, "XXXX"...)
	if string(in) != orig {
		t.Errorf("appending to views changed the buffer to %q", in)
	}
	if k2, _ := req.Param(1); string(k2) != "freq" || string(v2[:len(v)]) != "abc" {
		t.Errorf("appending to Param(0) changed Param(1) to %q", k2)
	}
}

// TestErrors checks the sentinels' statuses and that errors.As finds them.
func TestErrors(t *testing.T) {
	want := map[*Error]int{
		ErrBadRequestLine: 400, ErrBadMethod: 400, ErrBadTarget: 400, ErrUnsupportedTarget: 400,
		ErrBadEscape: 400, ErrTooManyParams: 400, ErrTargetTooLong: 414, ErrBadVersion: 400,
		ErrVersionNotSupported: 505, ErrBareCR: 400, ErrBareLF: 400, ErrBadHeaderName: 400,
		ErrSpaceBeforeColon: 400, ErrObsFold: 400, ErrBadHeaderValue: 400, ErrMissingHost: 400,
		ErrDuplicateHost: 400, ErrBadHost: 400, ErrExpectationFailed: 417, ErrBadContentLength: 400, ErrDuplicateLength: 400,
		ErrBodyNotAccepted: 413, ErrHeadTooLarge: 431, ErrTooManyHeaders: 431,
	}
	for e, status := range want {
		var got *Error
		if !errors.As(fmt.Errorf("wrapped: %w", e), &got) || got != e {
			t.Errorf("errors.As(wrapped %q) did not find it", e.Msg)
		}
		if e.Status != status || !strings.HasPrefix(e.Error(), "httpparse: ") {
			t.Errorf("%q: status %d; want %d, message prefixed httpparse:", e.Msg, e.Status, status)
		}
	}
	var e *Error
	if errors.As(ErrNeedMore, &e) {
		t.Errorf("ErrNeedMore is an *Error; it must not carry a status")
	}
}

func TestCountParams(t *testing.T) {
	for q, want := range map[string]int{"": 0, "&": 0, "a": 1, "a&": 1, "&a": 1, "a&&b": 2, "a=&=b&&": 2, "a&b&c": 3} {
		if got := countParams([]byte(q)); got != want {
			t.Errorf("countParams(%q) = %d; want %d", q, got, want)
		}
	}
}

func TestValidHost(t *testing.T) {
	for h, want := range map[string]bool{
		"h": true, "example.com": true, "h:80": true, "h:": true, "127.0.0.1:8000": true,
		"[::1]": true, "[::1]:80": true, "[fe80::1.2.3.4]": true, "a-b_c~d!$&'()*+,;=": true,
		"[1:2:3:4:5:6:7:8]": true, "[1:2:3:4:5:6:1.2.3.4]": true, "[::]": true, "[1::]": true,
		"[::ffff:255.255.255.255]": true, "[ABCD:ef01::]:0": true,
		"": false, ":80": false, "h:8x": false, "h:80:80": false, "u@h": false, "h/": false,
		"%68": false, "[]": false, "[::1": false, "[::1]x": false, "[g::]": false, "h h": false,
		"[1.2.3.4]": false, "[1:2:3:4:5:6:7:8:9]": false, "[1:2:3:4:5:6:7::8]": false,
		"[1::2::3]": false, "[:1]": false, "[1:]": false, "[:::]": false, "[12345::]": false,
		"[::1.2.3]": false, "[::1.2.3.256]": false, "[::01.2.3.4]": false, "[::1.2.3.4:5]": false,
		"[v1.x]": false,
		// Zone IDs (RFC 6874): "%25" then unreserved characters, or escapes
		// of unreserved characters or a space.
		"[fe80::1%25en0]": true, "[fe80::1%25en0]:80": true, "[::1%251]": true, "[fe80::1%2525]": true,
		"[fe80::1%25Ethernet%202]": true, "[fe80::1%25%41%7e%2D]": true, "[1:2:3:4:5:6:1.2.3.4%25a]": true,
		"[fe80::1%en0]": false, "[fe80::1%]": false, "[fe80::1%2]": false, "[fe80::1%25]": false,
		"[fe80::1%25%]": false, "[fe80::1%25a%2]": false, "[fe80::1%25a%zz]": false, "[fe80::1%25a%00]": false,
		"[fe80::1%25a%2F]": false, "[fe80::1%25a%25]": false, "[fe80::1%25a%80]": false, "[fe80::1%25a%3A]": false,
		"[fe80::1%25a!]": false, "[fe80::1%25a:]": false, "[fe80::1%25a]x": false, "[fe80::1%25a%5D]": false,
		"[fe80::1%25a]:8x": false, "[fe80::1%24a]": false, "[fe80:%25a:1]": false, "[%25a]": false,
		"[1.2.3.4%25a]": false, "[v1.x%25a]": false, "fe80::1%25a": false, "h%25a": false,
	} {
		if got := validHost([]byte(h)); got != want {
			t.Errorf("validHost(%q) = %t; want %t", h, got, want)
		}
	}
}
