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
	ErrBadTarget:           "we hold targets to RFC 3986's characters; net/http takes most bytes",
	ErrUnsupportedTarget:   "asterisk-form, authority-form and non-http schemes are refused here",
	ErrBadEscape:           "net/http does not check escapes in the query",
	ErrTooManyParams:       "our limit; net/http has none",
	ErrTargetTooLong:       "our limit; net/http's is 1 MB for the head",
	ErrHeadTooLarge:        "our limit; net/http's is 1 MB",
	ErrTooManyHeaders:      "our limit; net/http's is 1 MB",
	ErrVersionNotSupported: "net/http's Server, not ReadRequest, answers 505",
	ErrMissingHost:         "net/http's Server, not ReadRequest, requires Host",
	ErrBadHost:             "net/http's Server checks Host, and with a laxer byte set",
	ErrObsFold:             "net/http unfolds obs-fold",
	ErrBareLF:              "net/http accepts LF line endings",
	ErrBodyNotAccepted:     "we take no request bodies",
	ErrDuplicateLength:     "net/http accepts equal duplicates",
	ErrSpaceBeforeColon:    "RFC 9112 §5.1 says MUST reject; net/http trims it for compatibility",
}

// FuzzNetHTTP compares accept/reject with net/http.ReadRequest, and when
// both accept, the fields both report. Inputs are skipped where the two
// legitimately differ: heads we need more of (ReadRequest sees EOF), and
// heads starting with empty lines (we skip them, ReadRequest does not).
// When we reject what ReadRequest accepts, the error must be one of
// acceptedByNetHTTP.
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
	check("method", string(req.Method), hreq.Method)
	check("target", string(req.Target), hreq.RequestURI)
	check("major", req.Major, hreq.ProtoMajor)
	check("minor", req.Minor, hreq.ProtoMinor)
	check("host", string(req.Host), hreq.Host)
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
		a, err := netip.ParseAddr(s)
		want := err == nil && a.Is6() && a.Zone() == "" && !strings.Contains(s, "%")
		if got := validIPv6([]byte(s)); got != want {
			t.Fatalf("validIPv6(%q) = %t; netip.ParseAddr says %v, %v", s, got, a, err)
		}
	})
}
