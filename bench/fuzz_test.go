package main

import (
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
