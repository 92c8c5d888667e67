package httpparse

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// fuzzSeeds are the inputs every parser fuzz target starts from: the table's
// rows that are not huge, and a few pipelines.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, tt := range parseTests {
		if len(tt.in) <= 1024 {
			seeds = append(seeds, []byte(tt.in))
		}
	}
	seeds = append(seeds,
		[]byte(typical+typical+typical),
		[]byte(head("GET /a HTTP/1.0", "Connection: keep-alive")+"\r\n"+head("GET http://h/b?c=d HTTP/1.1", "Host: x")),
		[]byte(head("GET /p?a=%41&b=+ HTTP/1.1", "Host: [::1]:80", "Content-Length: 0", "X:  y  ")),
		[]byte(head("GET http://[1.2.3.4]:/%7e?%7e HTTP/1.0")),
		[]byte(head("GET HTTP://a.b-c_d~e!$&'()*+,;=:99999999999 HTTP/1.0")),
		[]byte(head("GET http://h/a;b?c;d HTTP/1.1", "Host: h", "Pragma: no-cache", "x: \t1\t")),
		[]byte(head("GET /%2F%00?%00=%00 HTTP/1.0", "Connection: keep-alive", "Connection: x")),
		[]byte(head("OPTIONS * HTTP/1.1", "Host: [fe80::1%25en0]:80", "Origin: http://h", "Access-Control-Request-Method: GET")+
			head("CONNECT [::1%25x]:443 HTTP/1.1", "Host: h", "Expect: 100-continue")+head("BREW /pot HTTP/1.1", "Host: h")),
		[]byte(head("PUT http://[fe80::1%25Ethernet%202]:8/p HTTP/1.0", "Expect: 100-Continue,", "Content-Length: 0")),
		[]byte(head("GET / HTTP/1.1", "Host: h", "Expect: ,", "Expect: 100-continue x")),
	)
	return seeds
}

// parseAll parses every pipelined request in data with one Parser and one
// Request, as a server loop does, and renders each result. If split >= 0 the
// parser first sees only data[:split], in a buffer of its own, and the whole
// of data once it needs more.
func parseAll(data []byte, split int) []string {
	var p Parser
	var req Request
	avail := data
	if split >= 0 {
		avail = append([]byte(nil), data[:split]...)
	}
	var out []string
	for off := 0; ; {
		n, err := p.Parse(avail[off:], &req)
		if errors.Is(err, ErrNeedMore) && len(avail) < len(data) {
			avail = data
			continue
		}
		out = append(out, outcome(n, err, &req))
		if err != nil {
			return out
		}
		off += n
	}
}

// FuzzSplit checks that the result never depends on where the bytes were
// split across calls: parsing data whole and parsing it in two parts, split
// at a fuzzed offset, must give the same requests, the same n for each, and
// the same final error.
func FuzzSplit(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint16(len(s)/2))
		f.Add(s, uint16(len(s)-1))
	}
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		split := int(at) % (len(data) + 1)
		whole := parseAll(data, -1)
		parts := parseAll(data, split)
		if !slices.Equal(whole, parts) {
			t.Fatalf("split at %d: Parse(%q) = %q; want %q", split, data, parts, whole)
		}
	})
}

// acceptedByNetHTTP lists our errors for heads that net/http.ReadRequest
// accepts by design: where we are stricter on purpose, or where net/http
// leaves the check to its Server rather than ReadRequest.
var acceptedByNetHTTP = map[error]string{
	ErrBadTarget: "we hold targets to RFC 3986's characters, and zone IDs to a narrower rule than net/url's; " +
		"net/http takes most bytes, and CONNECT without a port or with a path, or with an empty target " +
		"(it reads \"CONNECT  HTTP/1.1\" as the authority \"\")",
	ErrUnsupportedTarget: "net/http takes asterisk-form with any method and non-http schemes; " +
		"we take asterisk-form with OPTIONS only, authority-form with CONNECT only",
	ErrBadEscape:           "net/http does not check escapes in the query",
	ErrTooManyParams:       "our limit; net/http has none",
	ErrTargetTooLong:       "our limit; net/http's is 1 MB for the head",
	ErrHeadTooLarge:        "our limit; net/http's is 1 MB",
	ErrTooManyHeaders:      "our limit; net/http's is 1 MB",
	ErrVersionNotSupported: "net/http's Server, not ReadRequest, answers 505",
	ErrMissingHost:         "net/http's Server, not ReadRequest, requires Host",
	ErrBadHost:             "net/http's Server checks Host, and with a laxer byte set",
	ErrExpectationFailed: "net/http's Server, not ReadRequest, answers 417, and reads only the first Expect line: " +
		"it meets any value holding a 100-continue token, where we refuse any other member",
	ErrObsFold:          "net/http unfolds obs-fold",
	ErrBareLF:           "net/http accepts LF line endings",
	ErrBodyNotAccepted:  "we take no request bodies",
	ErrDuplicateLength:  "net/http accepts equal duplicates",
	ErrSpaceBeforeColon: "RFC 9112 §5.1 says MUST reject; net/http trims it for compatibility",
}

// FuzzNetHTTP compares accept/reject with net/http.ReadRequest, and when
// both accept, the fields both report. Inputs are skipped where the two
// legitimately differ: heads we need more of (ReadRequest sees EOF), and
// heads starting with empty lines (we skip them, ReadRequest does not).
// When we reject what ReadRequest accepts, the error must be one of
// acceptedByNetHTTP.
//
// Both accept any method that is a token, so unknown methods are compared
// like known ones; our classification is checked against net/http's Method
// constants. ReadRequest does not look at Expect, so a head we accept is
// also checked against the rule by which net/http's Server answers 417.
func FuzzNetHTTP(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Parser
		var req Request
		n, err := p.Parse(data, &req)
		if errors.Is(err, ErrNeedMore) || len(data) > 0 && (data[0] == '\r' || data[0] == '\n') {
			return
		}
		hreq, herr := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			if herr == nil && acceptedByNetHTTP[err] == "" {
				t.Fatalf("Parse(%q) = %v; net/http.ReadRequest accepts it", data, err)
			}
			return
		}
		if herr != nil {
			t.Fatalf("Parse(%q) = %d, nil; net/http.ReadRequest: %v", data, n, herr)
		}
		compareWithNetHTTP(t, data, &req, hreq)
	})
}

func compareWithNetHTTP(t *testing.T, data []byte, req *Request, hreq *http.Request) {
	t.Helper()
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("Parse(%q): %s = %q; net/http says %q", data, what, got, want)
		}
	}
	check("method", string(req.RawMethod), hreq.Method)
	check("method class", req.Method, netHTTPMethods[hreq.Method]) // MethodOther if not there
	check("target", string(req.Target), hreq.RequestURI)
	check("major", req.Major, hreq.ProtoMajor)
	check("minor", req.Minor, hreq.ProtoMinor)
	host := string(req.Host)
	if len(req.Target) > 0 && req.Target[0] != '/' && string(req.Target) != "*" {
		// The host is the target's: net/url decodes a zone ID, we keep it as sent.
		var err error
		if host, err = url.PathUnescape(host); err != nil {
			t.Errorf("Parse(%q): host %q does not unescape: %v", data, req.Host, err)
		}
	}
	check("host", host, hreq.Host)
	if netHTTPRefusesExpect(hreq.Header) {
		t.Errorf("Parse(%q) accepts Expect %q; net/http's Server answers 417", data, hreq.Header["Expect"])
	}
	check("close", !req.KeepAlive, hreq.Close)
	check("raw query", string(req.RawQuery), hreq.URL.RawQuery)
	path, err := url.PathUnescape(string(req.Path))
	if err != nil {
		t.Errorf("Parse(%q): path %q does not unescape: %v", data, req.Path, err)
	}
	if hreq.URL.Path != "" || path != "/" { // net/http leaves an absolute-form's empty path empty
		check("decoded path", path, hreq.URL.Path)
	}

	ours := map[string][]string{}
	for i := range req.NumHeaders() {
		name, value := req.HeaderAt(i)
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		if key != "Host" { // ReadRequest moves it to hreq.Host, compared above
			ours[key] = append(ours[key], string(value))
		}
	}
	for key, values := range ours {
		if !slices.Equal(values, hreq.Header[key]) {
			t.Errorf("Parse(%q): header %s = %q; net/http says %q", data, key, values, hreq.Header[key])
		}
	}
	for key, values := range hreq.Header {
		// net/http adds Cache-Control for "Pragma: no-cache".
		if ours[key] == nil && !(key == "Cache-Control" && ours["Pragma"] != nil) {
			t.Errorf("Parse(%q): no header %s; net/http says %q", data, key, values)
		}
	}

	// url.ParseQuery refuses ';', which we take as a plain byte.
	if want, err := url.ParseQuery(string(req.RawQuery)); err == nil {
		got := url.Values{}
		for i := range req.NumParams() {
			k, v := req.Param(i)
			got[string(k)] = append(got[string(k)], string(v))
		}
		if !equalValues(got, want) {
			t.Errorf("Parse(%q): params %q; url.ParseQuery says %q", data, got, want)
		}
	}
}

// netHTTPMethods maps net/http's Method constants to ours.
var netHTTPMethods = map[string]Method{
	http.MethodGet: MethodGet, http.MethodHead: MethodHead, http.MethodOptions: MethodOptions,
	http.MethodPost: MethodPost, http.MethodPut: MethodPut, http.MethodDelete: MethodDelete,
	http.MethodPatch: MethodPatch, http.MethodConnect: MethodConnect, http.MethodTrace: MethodTrace,
}

// netHTTPRefusesExpect reports whether net/http's Server answers 417 to h
// (server.go: a first Expect line that is not empty and has no 100-continue
// token), leaving out the case where we rightly differ: a list of only empty
// elements, which holds no expectation (RFC 9110 §5.6.1).
func netHTTPRefusesExpect(h http.Header) bool {
	v := h.Get("Expect")
	if v == "" || strings.Trim(v, ", \t") == "" {
		return false
	}
	// hasToken's token boundaries are ',', SP and HTAB.
	for f := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if strings.EqualFold(f, "100-continue") {
			return false
		}
	}
	return true
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// FuzzQuery checks the query decoder against url.ParseQuery: same keys, same
// values in the same order, and an error for the same inputs. The two differ
// by design on ';' (url.ParseQuery refuses it) and on more than MaxParams
// parameters (a limit of ours); such inputs are checked only for not
// crashing and for agreeing with countParams.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{
		"", "a=1", "id=abc&freq=440", "a=1&a=2&b", "a=&b&&c=%41%42+x", "%zz", "a=%4", "a%",
		"=v", "a=b=c", "k%00=%ff", "+=+", "a;b", strings.Repeat("a&", MaxParams+1),
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		var r Request
		err := r.setQuery([]byte(q))
		if n := countParams([]byte(q)); n > MaxParams {
			if err != ErrTooManyParams && err != ErrBadEscape {
				t.Fatalf("setQuery(%q) = %v with %d params; want %v", q, err, n, ErrTooManyParams)
			}
			return
		} else if err == nil && r.NumParams() != n {
			t.Fatalf("setQuery(%q): %d params; countParams says %d", q, r.NumParams(), n)
		}
		if strings.Contains(q, ";") {
			return
		}
		want, werr := url.ParseQuery(q)
		if (err != nil) != (werr != nil) {
			t.Fatalf("setQuery(%q) = %v; url.ParseQuery: %v", q, err, werr)
		}
		if err != nil {
			return
		}
		got := url.Values{}
		for i := range r.NumParams() {
			k, v := r.Param(i)
			got[string(k)] = append(got[string(k)], string(v))
		}
		if !equalValues(got, want) {
			t.Fatalf("setQuery(%q) = %q; url.ParseQuery says %q", q, got, want)
		}
	})
}

// FuzzIPv6 checks validIPv6 against net/netip: an address netip parses as
// IPv6 without a zone, and nothing else.
func FuzzIPv6(f *testing.F) {
	for _, s := range []string{"::", "::1", "1:2:3:4:5:6:7:8", "1::", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4",
		"fe80::1%en0", "1.2.3.4", "::01.2.3.4", "1::2::3", "12345::", ":1", "1:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validIPv6([]byte(s)), ipv6NoZone(s); got != want {
			a, err := netip.ParseAddr(s)
			t.Fatalf("validIPv6(%q) = %t; netip.ParseAddr says %v, %v", s, got, a, err)
		}
	})
}

// FuzzIPLiteral checks validIPLiteral, which reads the inside of a Host's
// brackets, both ways. Against a reference written with net/netip and
// url.PathUnescape: an IPv6 address without a zone (as FuzzIPv6 holds it),
// optionally "%25" and a zone ID of unreserved bytes and escapes that decode
// to unreserved bytes or a space. And against net/url, so that FuzzNetHTTP
// stays honest: whatever we accept, net/url accepts as the host of an http
// URL, and netip reads its decoded form as the same IPv6 address and zone.
func FuzzIPLiteral(f *testing.F) {
	for _, s := range []string{"::1", "fe80::1%25en0", "fe80::1%25Ethernet%202", "::1%251", "fe80::1%2525",
		"fe80::1%en0", "fe80::1%25", "fe80::1%25a%2F", "fe80::1%25a%25b", "fe80::1%25a:b", "1.2.3.4%25a",
		"::ffff:1.2.3.4%25a", "fe80::1%25%7e", "fe80::1%41%25a", "fe80::1%25a%C3%A9", "fe80::1%25a%20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := validIPLiteral([]byte(s))
		addr, zone, hasZone := strings.Cut(s, "%25")
		want := ipv6NoZone(addr) && (!hasZone || zoneOK(zone))
		if got != want {
			t.Fatalf("validIPLiteral(%q) = %t; want %t", s, got, want)
		}
		if !got {
			return
		}
		u, err := url.Parse("http://[" + s + "]/")
		if err != nil {
			t.Fatalf("validIPLiteral(%q) = true; net/url: %v", s, err)
		}
		a, err := netip.ParseAddr(u.Hostname())
		dec, _ := url.PathUnescape(zone)
		if err != nil || a.WithZone("") != netip.MustParseAddr(addr) || a.Zone() != dec {
			t.Fatalf("validIPLiteral(%q) = true; netip.ParseAddr(%q) = %v, %v; want %s with zone %q", s, u.Hostname(), a, err, addr, dec)
		}
	})
}

// ipv6NoZone is FuzzIPv6's reference for validIPv6.
func ipv6NoZone(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == "" && !strings.Contains(s, "%")
}

// zoneOK is the reference for a zone ID after its "%25".
func zoneOK(z string) bool {
	dec, err := url.PathUnescape(z)
	if z == "" || err != nil {
		return false
	}
	unreserved := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
	}
	for i := range len(z) {
		if z[i] != '%' && !unreserved(z[i]) {
			return false
		}
	}
	for i := range len(dec) { // raw bytes are unreserved; this checks the escapes
		if dec[i] != ' ' && !unreserved(dec[i]) {
			return false
		}
	}
	return true
}
