package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// icyBlock returns a well-formed block for title: the length byte, then
// "StreamTitle='title';" NUL-padded to the next multiple of 16. Written
// from the README's layout, not from the server's code.
func icyBlock(title string) []byte {
	return icyRaw(icyTitleStart+title+icyTitleEnd, (len(icyTitleStart)+len(title)+len(icyTitleEnd)+15)/16)
}

// icyRaw returns a block of length byte l holding text, NUL-padded to 16·l
// bytes (text is cut if it does not fit).
func icyRaw(text string, l int) []byte {
	b := make([]byte, 1+16*l)
	b[0] = byte(l)
	copy(b[1:], text)
	return b
}

// icyBody is a reference ICY encoder: audio cut every interval bytes, each
// cut followed by the block of title(k) for the k-th block when it is not
// the last title sent, else a zero byte. It returns the body and what a
// stripper should count in it.
func icyBody(audio []byte, interval int, title func(k int) string) ([]byte, icyCounts) {
	var out []byte
	var n icyCounts
	last := ""
	for k := 0; ; k++ {
		a := min(interval, len(audio))
		out = append(out, audio[:a]...)
		audio = audio[a:]
		if len(audio) == 0 {
			return out, n
		}
		n.blocks++
		if t := title(k); n.titles == 0 || t != last {
			out = append(out, icyBlock(t)...)
			if n.titles > 0 {
				n.changes++
			}
			n.titles++
			last = t
		} else {
			out = append(out, 0)
		}
	}
}

// icyCounts are a stripper's counters, for comparison.
type icyCounts struct{ blocks, titles, changes, bad int64 }

func (s *icyStripper) counts() icyCounts { return icyCounts{s.blocks, s.titles, s.changes, s.bad} }

// stripAll feeds the pieces to a stripper with the given interval and
// returns the audio it let through and the stripper.
func stripAll(interval int, pieces ...[]byte) ([]byte, *icyStripper) {
	var s icyStripper
	s.reset(interval)
	var audio []byte
	for _, p := range pieces {
		for len(p) > 0 {
			var a []byte
			a, p = s.next(p)
			audio = append(audio, a...)
		}
	}
	return audio, &s
}

func cat(parts ...string) []byte { return []byte(strings.Join(parts, "")) }

func TestICYStripper(t *testing.T) {
	const a, b, c = "aaaaaaaa", "bbbbbbbb", "cccccccc" // interval 8
	good := string(icyBlock("tone · 440 Hz sine"))
	tests := []struct {
		name  string
		body  []byte
		audio string
		want  icyCounts
	}{
		{"no block yet", cat("aaaa"), "aaaa", icyCounts{}},
		{"audio up to a block", cat(a), a, icyCounts{}},
		{"title, then unchanged", cat(a, good, b, "\x00", "ccc"), a + b + "ccc", icyCounts{2, 1, 0, 0}},
		{"title changes", cat(a, string(icyBlock("one")), b, string(icyBlock("two")), c, "\x00", "d"),
			a + b + c + "d", icyCounts{3, 2, 1, 0}},
		{"same title again", cat(a, string(icyBlock("one")), b, string(icyBlock("one")), c), a + b + c, icyCounts{2, 2, 0, 0}},
		{"change and back", cat(a, string(icyBlock("one")), b, string(icyBlock("two")), c, string(icyBlock("one")), "d"),
			a + b + c + "d", icyCounts{3, 3, 2, 0}},
		{"empty title", cat(a, string(icyBlock("")), b), a + b, icyCounts{1, 1, 0, 0}},
		{"no padding", cat(a, string(icyBlock("x")), b), a + b, icyCounts{1, 1, 0, 0}}, // 13+1+2 = 16 bytes
		{"15 bytes of padding", cat(a, string(icyBlock("xy")), b), a + b, icyCounts{1, 1, 0, 0}},
		{"200-byte title", cat(a, string(icyBlock(strings.Repeat("é", 100))), b), a + b, icyCounts{1, 1, 0, 0}},
		{"a quote inside", cat(a, string(icyBlock("it's")), b), a + b, icyCounts{1, 1, 0, 0}},
		{"block cut off at the end", cat(a, good[:20]), a, icyCounts{}},

		// Malformed, each after a good title: counted, framing kept.
		{"zero before any title", cat(a, "\x00", b), a + b, icyCounts{1, 0, 0, 1}},
		{"lower-case field", cat(a, good, b, string(icyRaw("streamtitle='x';", 1)), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"no terminator", cat(a, good, b, string(icyRaw("StreamTitle='abc'", 2)), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"a second field", cat(a, good, b, string(icyRaw("StreamTitle='ab';StreamUrl='';", 2)), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"16 bytes of padding", cat(a, good, b, string(icyRaw("StreamTitle='x';", 2)), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"length byte too large", cat(a, good, b, string(icyRaw("StreamTitle='ab';", 3)), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"padded with spaces", cat(a, good, b, "\x02StreamTitle='ab';               ", c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"NUL in the title", cat(a, good, b, string(icyRaw("StreamTitle='a\x00b';", 2)), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"newline in the title", cat(a, good, b, string(icyRaw("StreamTitle='a\nb';", 2)), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"DEL in the title", cat(a, good, b, string(icyRaw("StreamTitle='a\x7fb';", 2)), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"not UTF-8", cat(a, good, b, string(icyRaw("StreamTitle='a\xffb';", 2)), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"201-byte title", cat(a, good, b, string(icyBlock(strings.Repeat("x", 201))), c), a + b + c, icyCounts{2, 1, 0, 1}},
		{"bad, then the same title", cat(a, good, b, string(icyRaw("StreamTitle='x", 1)), c, good, "d"),
			a + b + c + "d", icyCounts{3, 2, 0, 1}},
		// A block left out: the audio byte where it should start is read
		// as its length ('c' = 99: 1584 bytes), and the body ends inside.
		{"block missing", cat(a, good, b, c), a + b, icyCounts{1, 1, 0, 0}},
	}
	for _, tt := range tests {
		check := func(how string, audio []byte, s *icyStripper) {
			t.Helper()
			if string(audio) != tt.audio || s.counts() != tt.want {
				t.Errorf("%s, %s: audio %q, counts %+v; want %q, %+v", tt.name, how, audio, s.counts(), tt.audio, tt.want)
			}
			if len(s.carry) > maxICYBlock {
				t.Errorf("%s, %s: carrying %d bytes; want at most %d", tt.name, how, len(s.carry), maxICYBlock)
			}
		}
		audio, s := stripAll(8, tt.body)
		check("whole", audio, s)
		var bytewise [][]byte
		for i := range tt.body {
			bytewise = append(bytewise, tt.body[i:i+1])
		}
		audio, s = stripAll(8, bytewise...)
		check("byte by byte", audio, s)
		for i := 0; i <= len(tt.body); i++ {
			audio, s = stripAll(8, tt.body[:i], tt.body[i:])
			check("split at "+strconv.Itoa(i), audio, s)
		}
	}
}

// TestICYStream: real frames wrapped at the real interval, titles changing,
// walked after stripping: every frame, no loss, every block counted, at any
// read size and split at every offset around each block.
func TestICYStream(t *testing.T) {
	stream, lens := encodeFrames(t, 44100, 2, 128, 200, 0.5) // 83 KB: five blocks
	titles := []string{"tone · 440 Hz sine", "tone · 440 Hz sine", "tone · 220 Hz saw", "tone · 220 Hz saw", "Night drive · melody · C4 pentatonic · 120 bpm"}
	body, want := icyBody(stream, icyMetaInt, func(k int) string { return titles[k] })
	if want != (icyCounts{blocks: 5, titles: 3, changes: 2}) {
		t.Fatalf("icyBody counts %+v; want 5 blocks, 3 titles, 2 changes", want)
	}
	run := func(how string, pieces ...[]byte) {
		t.Helper()
		var s icyStripper
		var w frameWalker
		s.reset(icyMetaInt)
		for _, p := range pieces {
			for len(p) > 0 {
				var a []byte
				a, p = s.next(p)
				w.Write(a)
			}
		}
		if s.counts() != want || w.frames != int64(len(lens)) || w.syncLosses != 0 || w.skipped != 0 {
			t.Fatalf("%s: counts %+v, frames %d, losses %d, skipped %d; want %+v, %d, 0, 0",
				how, s.counts(), w.frames, w.syncLosses, w.skipped, want, len(lens))
		}
	}
	for _, step := range []int{1, 7, 417, 15999, 16000, 16001, 16065, 65536, len(body)} {
		var pieces [][]byte
		for p := body; len(p) > 0; {
			n := min(step, len(p))
			pieces, p = append(pieces, p[:n]), p[n:]
		}
		run("step "+strconv.Itoa(step), pieces...)
	}
	// Around each block: from just before its length byte to just after
	// its end.
	for at := icyMetaInt; at < len(body); {
		end := at + 1 + 16*int(body[at])
		for i := at - 2; i <= end+2; i++ {
			run("split at "+strconv.Itoa(i), body[:i], body[i:])
		}
		at = end + icyMetaInt
	}
}

func TestHeadMetaInt(t *testing.T) {
	tests := []struct {
		head string
		want int
	}{
		{"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nicy-metaint: 16000\r\nConnection: close\r\n\r\n", 16000},
		{"ICY 200 OK\r\nIcy-MetaInt:8192\r\n\r\n", 8192},
		{"HTTP/1.0 200 OK\nICY-METAINT:  16000 \n\n", 16000},
		{"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n", -1},
		{"HTTP/1.1 200 OK\r\nicy-metaint: 16k\r\n\r\n", -1},
		{"HTTP/1.1 200 OK\r\nicy-metaint: -5\r\n\r\n", -1},
		{"HTTP/1.1 200 OK\r\nx-icy-metaint: 16000\r\n\r\n", -1},
	}
	for _, tt := range tests {
		if got := headMetaInt([]byte(tt.head)); got != tt.want {
			t.Errorf("headMetaInt(%q) = %d; want %d", tt.head, got, tt.want)
		}
	}
}

// TestICYTitleChangeCarry: a title split across reads is compared with the
// previous one like a whole one.
func TestICYTitleChangeCarry(t *testing.T) {
	body, _ := icyBody(bytes.Repeat([]byte{'a'}, 40), 8, func(k int) string { return []string{"one", "one", "two", "two"}[k] })
	for i := 0; i <= len(body); i++ {
		for j := i; j <= len(body); j++ {
			_, s := stripAll(8, body[:i], body[i:j], body[j:])
			if want := (icyCounts{4, 2, 1, 0}); s.counts() != want {
				t.Fatalf("split at %d and %d: counts %+v; want %+v", i, j, s.counts(), want)
			}
		}
	}
}

// TestListenICYNeedsMetaInt: with -icy, a 200 without "icy-metaint: 16000"
// fails the listener, with its reason.
func TestListenICYNeedsMetaInt(t *testing.T) {
	for _, metaint := range []string{"", "8192"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "audio/mpeg")
			if metaint != "" {
				w.Header().Set("icy-metaint", metaint)
			}
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
		var rep listenReport
		runJSON(t, &rep, "listen", "-stream-urls", srv.URL+"/live.mp3", "-n", "2", "-duration", "500ms", "-icy")
		srv.Close()
		if rep.Failed != 2 || rep.Reasons["no icy-metaint: 16000"] != 2 {
			t.Errorf("icy-metaint %q: failed %d, reasons %v; want 2, all \"no icy-metaint: 16000\"", metaint, rep.Failed, rep.Reasons)
		}
	}
}
