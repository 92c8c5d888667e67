//go:build !race

package httpparse

import "testing"

// TestParseAllocs: parsing a typical request with a reused Parser and
// Request allocates nothing once the Request's scratch buffers have grown
// (AllocsPerRun's own warm-up run grows them).
func TestParseAllocs(t *testing.T) {
	in := []byte(typical)
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
		if !req.IsMethod("GET") || req.Header("user-agent") == nil || req.Header("missing") != nil {
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
