package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/synthcast/synthcast/render"
)

// FuzzWalker: any bytes, split anywhere, walk to the same result as whole,
// in bounded memory, and every frame the hook sees parses and classifies
// without panicking.
func FuzzWalker(f *testing.F) {
	stream, lens := encodeFrames(f, 44100, 2, 128, 4, 0.5)
	silent, _ := encodeFrames(f, 22050, 1, 32, 3, 0)
	f.Add(stream, 100)
	f.Add(concat(stream[:lens[0]+10], []byte{0xff, 0xfb, 0x90, 0x04, 0}, stream[lens[0]+10:]), 417)
	f.Add(concat([]byte("junk\xff\xff\xfb"), silent), 3)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		var seen int
		hook := func(h render.FrameHeader, frame []byte, pos float64) {
			if len(frame) != h.Length || pos < 0 {
				t.Fatalf("hook got %d bytes of a %d-byte frame at %v", len(frame), h.Length, pos)
			}
			frameSilent(h, frame)
			seen++
		}
		whole := frameWalker{hook: hook}
		whole.Write(b)
		n := seen
		split = min(max(split, 0), len(b))
		parts := frameWalker{hook: hook}
		parts.Write(b[:split])
		parts.Write(b[split:])
		if whole.frames != parts.frames || whole.syncLosses != parts.syncLosses ||
			whole.skipped != parts.skipped || whole.audio != parts.audio || seen != 2*n {
			t.Fatalf("split at %d: frames %d/%d, losses %d/%d, skipped %d/%d, audio %v/%v, hook %d/%d",
				split, whole.frames, parts.frames, whole.syncLosses, parts.syncLosses,
				whole.skipped, parts.skipped, whole.audio, parts.audio, n, seen-n)
		}
		if len(parts.buf) > maxPending {
			t.Fatalf("carrying %d bytes; want at most %d", len(parts.buf), maxPending)
		}
	})
}

// FuzzICY: any body, split anywhere, strips to the same audio and counts as
// whole, lets through no more than it got and carries at most a block; and
// b taken as audio, wrapped by the reference encoder every interval bytes
// with the titles (printable, split at '|'), comes back byte for byte with
// every block counted and none bad, whole and split.
func FuzzICY(f *testing.F) {
	f.Add(cat("aaaaaaaa", string(icyBlock("one")), "bbbbbbbb", "\x00", "cc"), uint8(7), 20, "one|one|two")
	f.Add(cat("aaaaaaaa", string(icyRaw("StreamTitle='x';", 2)), "bbbbbbbb"), uint8(7), 9, "")
	f.Add(bytes.Repeat([]byte("0123456789abcdef"), 40), uint8(255), 300, strings.Repeat("x", 250))
	f.Fuzz(func(t *testing.T, b []byte, interval uint8, split int, titles string) {
		iv := 1 + int(interval)
		split = min(max(split, 0), len(b))
		check := func(what string, body []byte, split int) ([]byte, icyCounts) {
			whole, ws := stripAll(iv, body)
			parts, ps := stripAll(iv, body[:split], body[split:])
			if !bytes.Equal(whole, parts) || ws.counts() != ps.counts() {
				t.Fatalf("%s, split at %d: audio %d/%d bytes, counts %+v/%+v", what, split, len(whole), len(parts), ws.counts(), ps.counts())
			}
			if len(whole) > len(body) || len(ps.carry) > maxICYBlock {
				t.Fatalf("%s: %d audio bytes out of %d, carrying %d", what, len(whole), len(body), len(ps.carry))
			}
			return whole, ws.counts()
		}
		check("any body", b, split)

		clean := []byte(titles)
		for i, c := range clean {
			if c != '|' {
				clean[i] = ' ' + c%('~'-' '+1)
				if clean[i] == '\'' {
					clean[i] = '"'
				}
			}
		}
		list := strings.Split(string(clean), "|")
		for i := range list {
			list[i] = list[i][:min(len(list[i]), maxICYTitle)]
		}
		body, want := icyBody(b, iv, func(k int) string { return list[k%len(list)] })
		audio, got := check("encoded", body, min(split, len(body)))
		if !bytes.Equal(audio, b) || got != want {
			t.Fatalf("round trip: audio %d bytes (equal %v), counts %+v; want %d bytes, %+v", len(audio), bytes.Equal(audio, b), got, len(b), want)
		}
	})
}
