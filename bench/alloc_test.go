//go:build !race

package main

import (
	"bufio"
	"strings"
	"testing"
	"time"
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

// TestICYListenerAllocs: a listener's read with -icy (metadata taken out,
// audio walked, figures updated) allocates nothing once its carry-over
// buffers exist, titles that change and split across reads included.
func TestICYListenerAllocs(t *testing.T) {
	stream, _ := encodeFrames(t, 44100, 2, 128, 200, 0.5)
	body, _ := icyBody(stream, icyMetaInt, func(k int) string { return []string{"tone · 440 Hz sine", "tone · 220 Hz saw"}[k%2] })
	t0 := time.Unix(1000, 0)
	l := &listener{run: &listenRun{steadyStart: t0, steadyEnd: t0.Add(time.Hour), icy: true}, phase: phaseBody}
	now := t0
	feed := func() {
		l.icy.reset(icyMetaInt)
		for p := body; len(p) > 0; {
			n := min(1001, len(p)) // the first block starts 985 bytes into a read: split
			l.onBody(p[:n], now)
			p = p[n:]
			now = now.Add(time.Millisecond)
		}
	}
	feed()
	if cap(l.icy.carry) == 0 || l.icy.changes == 0 {
		t.Fatalf("no block was split (carry cap %d) or no title changed (%d): the test lost its point", cap(l.icy.carry), l.icy.changes)
	}
	if n := testing.AllocsPerRun(20, feed); n != 0 {
		t.Errorf("listener.onBody with ICY allocates %v times per pass; want 0", n)
	}
	if l.icy.bad != 0 || l.w.syncLosses != 0 {
		t.Errorf("bad blocks %d, sync losses %d; want 0", l.icy.bad, l.w.syncLosses)
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
