//go:build !race

package httpparse

import "testing"

// allocHeads are the heads the allocation tests parse: the typical request,
// and one of each shape the method, Host and Expect rules take a path for.
var allocHeads = []string{
	typical,
	head("OPTIONS /set_param HTTP/1.1", "Host: [fe80::1%25en0]:8000", "Origin: http://h",
		"Access-Control-Request-Method: GET", "Expect: 100-continue"),
	head("OPTIONS * HTTP/1.1", "Host: h"),
	head("CONNECT [::1%25x]:443 HTTP/1.1", "Host: h"),
	head("M-SEARCH /?a=1 HTTP/1.1", "Host: h", "Expect: 100-Continue, ,100-continue"),
}

// TestParseAllocs: parsing a typical request with a reused Parser and
// Request allocates nothing once the Request's scratch buffers have grown
// (AllocsPerRun's own warm-up run grows them); neither do the other
// allocHeads, classifying the method included.
func TestParseAllocs(t *testing.T) {
	for _, h := range allocHeads {
		in := []byte(h)
		var p Parser
		var req Request
		allocs := testing.AllocsPerRun(100, func() {
			if n, err := p.Parse(in, &req); err != nil || n != len(in) {
				t.Fatalf("Parse(%q) = %d, %v; want %d, nil", in, n, err, len(in))
			}
		})
		if allocs != 0 {
			t.Errorf("Parse(%q) allocates %v times per run; want 0", in, allocs)
		}
	}
}

// TestParseByteByByteAllocs: a head arriving one byte per call allocates
// nothing either.
func TestParseByteByByteAllocs(t *testing.T) {
	in := []byte(typical)
	var p Parser
	var req Request
	allocs := testing.AllocsPerRun(20, func() {
		for k := 1; k <= len(in); k++ {
			if _, err := p.Parse(in[:k], &req); err == nil {
				return
			}
		}
		t.Fatalf("Parse(%q) byte by byte never completed", in)
	})
	if allocs != 0 {
		t.Errorf("Parse(%q) byte by byte allocates %v times per run; want 0", in, allocs)
	}
}

// TestAccessorAllocs: the lookups a router makes allocate nothing.
func TestAccessorAllocs(t *testing.T) {
	in := []byte(typical)
	var p Parser
	var req Request
	if _, err := p.Parse(in, &req); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if req.Method != MethodGet || !req.IsMethod("GET") || req.Header("user-agent") == nil || req.Header("missing") != nil {
			t.Fatal("lookup failed")
		}
		if v, ok := req.Query("freq"); !ok || string(v) != "440" {
			t.Fatal("Query failed")
		}
		for i := range req.NumParams() {
			req.Param(i)
		}
		for i := range req.NumHeaders() {
			req.HeaderAt(i)
		}
	})
	if allocs != 0 {
		t.Errorf("accessors allocate %v times per run; want 0", allocs)
	}
}

// A Request reused after Reset (as a server's pool does) parses without
// allocating, and keeps no view of the buffer it parsed.
func TestRequestResetKeepsScratch(t *testing.T) {
	buf := []byte("GET /set_param?id=abc&freq=440&gain=0.5 HTTP/1.1\r\nHost: x\r\n\r\n")
	var p Parser
	var req Request
	if _, err := p.Parse(buf, &req); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		req.Reset()
		if _, err := p.Parse(buf, &req); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Parse after Reset allocates %v times; want 0", n)
	}
	req.Reset()
	if req.Path != nil || req.RawMethod != nil || req.NumHeaders() != 0 || req.NumParams() != 0 {
		t.Errorf("after Reset: %+v; want no views", req)
	}
}
