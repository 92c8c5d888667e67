package httpparse

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// BenchmarkParse parses the typical request with a reused Parser and
// Request, as a server loop does.
func BenchmarkParse(b *testing.B) {
	in := []byte(typical)
	var p Parser
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := p.Parse(in, &req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetHTTPReadRequest parses the same request with
// net/http.ReadRequest, over a bufio.Reader on a bytes.Reader, both reset
// each iteration (the net/http server also reuses its bufio.Reader), and
// reads the query the way a net/http handler would.
func BenchmarkNetHTTPReadRequest(b *testing.B) {
	in := []byte(typical)
	rd := bytes.NewReader(in)
	br := bufio.NewReader(rd)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		rd.Reset(in)
		br.Reset(rd)
		req, err := http.ReadRequest(br)
		if err != nil {
			b.Fatal(err)
		}
		if req.URL.Query().Get("freq") != "440" {
			b.Fatal("bad query")
		}
	}
}

// BenchmarkParseByteByByte feeds a typical request one byte per call: the
// cost per byte should match BenchmarkParse's, not grow with the head.
func BenchmarkParseByteByByte(b *testing.B) {
	in := []byte(typical)
	var p Parser
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		for k := 1; k <= len(in); k++ {
			if _, err := p.Parse(in[:k], &req); err == nil {
				break
			}
		}
	}
}

// BenchmarkParseMaxHead parses a head of MaxHeadBytes, mostly one header
// value: the parser's throughput on long lines.
func BenchmarkParseMaxHead(b *testing.B) {
	in := []byte(sized(MaxHeadBytes))
	var p Parser
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := p.Parse(in, &req); err != nil {
			b.Fatal(err)
		}
	}
}
