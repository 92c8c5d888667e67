//go:build !race

package main

import (
	"bufio"
	"strings"
	"testing"
)

// TestWalkerAllocs: walking audio allocates nothing once the carry-over
// buffer exists, whatever the read sizes.
func TestWalkerAllocs(t *testing.T) {
	stream, _ := encodeFrames(t, 44100, 2, 128, 40, 0.5)
	var w frameWalker
	feed := func() {
		for p := stream; len(p) > 0; {
			n := min(1000, len(p))
			w.Write(p[:n])
			p = p[n:]
		}
	}
	feed()
	if n := testing.AllocsPerRun(20, feed); n != 0 {
		t.Errorf("frameWalker.Write allocates %v times per pass; want 0", n)
	}
}

// TestReadResponseAllocs: the control client parses answers without
// allocating.
func TestReadResponseAllocs(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nServer: synthcast\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	r := strings.NewReader(resp)
	br := bufio.NewReader(r)
	if n := testing.AllocsPerRun(100, func() {
		r.Reset(resp)
		br.Reset(r)
		if _, _, err := readResponse(br); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("readResponse allocates %v times per answer; want 0", n)
	}
}
