package main

import (
	"bytes"
	"math"
	"testing"

	"github.com/synthcast/synthcast/render"
)

// encodeFrames returns n frames of a sine (amp of full scale; 0 is digital
// silence) encoded by render.Encoder, and each frame's length.
func encodeFrames(t testing.TB, rate, channels, kbps, n int, amp float64) ([]byte, []int) {
	t.Helper()
	enc, err := render.NewEncoder(rate, channels, kbps)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, enc.FrameSamples()*channels)
	var out []byte
	var lens []int
	k := 0
	for range n {
		for i := range enc.FrameSamples() {
			v := int16(amp * 32767 * math.Sin(2*math.Pi*440*float64(k)/float64(rate)))
			k++
			for c := range channels {
				pcm[i*channels+c] = v
			}
		}
		before := len(out)
		if out, err = enc.EncodeFrame(out, pcm); err != nil {
			t.Fatal(err)
		}
		lens = append(lens, len(out)-before)
	}
	return out, lens
}

// walk feeds b to a new walker in pieces of at most step bytes.
func walk(b []byte, step int) *frameWalker {
	var w frameWalker
	for len(b) > 0 {
		n := min(step, len(b))
		w.Write(b[:n])
		b = b[n:]
	}
	return &w
}

const frameSeconds = 1152.0 / 44100

func TestWalkerCleanStream(t *testing.T) {
	stream, lens := encodeFrames(t, 44100, 2, 128, 40, 0.5)
	// Whole, byte by byte, at awkward steps and at one big read.
	for _, step := range []int{1, 2, 3, 4, 5, 7, 38, 417, 418, 419, 1000, 4096, 1 << 20} {
		w := walk(stream, step)
		if w.frames != int64(len(lens)) || w.syncLosses != 0 || w.skipped != 0 {
			t.Errorf("step %d: frames, losses, skipped = %d, %d, %d; want %d, 0, 0", step, w.frames, w.syncLosses, w.skipped, len(lens))
		}
		if want := float64(len(lens)) * frameSeconds; math.Abs(w.audio-want) > 1e-9 {
			t.Errorf("step %d: audio = %v s; want %v", step, w.audio, want)
		}
		if len(w.buf) > maxPending {
			t.Errorf("step %d: carrying %d bytes; want at most %d", step, len(w.buf), maxPending)
		}
	}
}

// TestWalkerSplitEverywhere splits a stream in two at every offset: the
// result never depends on where reads end.
func TestWalkerSplitEverywhere(t *testing.T) {
	stream, lens := encodeFrames(t, 22050, 1, 32, 6, 0.5)
	for i := 0; i <= len(stream); i++ {
		var w frameWalker
		w.Write(stream[:i])
		w.Write(stream[i:])
		if w.frames != int64(len(lens)) || w.syncLosses != 0 || w.skipped != 0 {
			t.Fatalf("split at %d: frames, losses, skipped = %d, %d, %d; want %d, 0, 0", i, w.frames, w.syncLosses, w.skipped, len(lens))
		}
	}
}

// TestWalkerPartialFrameNotCounted: a frame's audio counts once its last
// byte arrives.
func TestWalkerPartialFrameNotCounted(t *testing.T) {
	stream, lens := encodeFrames(t, 44100, 2, 128, 3, 0.5)
	var w frameWalker
	w.Write(stream[:lens[0]+lens[1]-1])
	if w.frames != 1 {
		t.Errorf("after 1 frame and most of another: frames = %d; want 1", w.frames)
	}
	w.Write(stream[lens[0]+lens[1]-1 : lens[0]+lens[1]])
	if w.frames != 2 {
		t.Errorf("after its last byte: frames = %d; want 2", w.frames)
	}
}

func TestWalkerResync(t *testing.T) {
	stream, lens := encodeFrames(t, 44100, 2, 128, 20, 0.5)
	at := func(k int) int { // offset of frame k
		n := 0
		for _, l := range lens[:k] {
			n += l
		}
		return n
	}
	// A false header: valid on its own, but no header follows it where its
	// frame would end.
	fake := []byte{0xff, 0xfb, 0x90, 0x04, 1, 2, 3}
	junk := append(bytes.Repeat([]byte{0x55}, 100), fake...)
	tests := []struct {
		name    string
		stream  []byte
		frames  int64
		losses  int64
		skipped int64 // -1: not checked
	}{
		{
			name:    "junk before the first frame is skipped, not a loss",
			stream:  concat(junk, stream),
			frames:  20,
			skipped: int64(len(junk)),
		},
		{
			name:    "starting mid-frame (as from a relay)",
			stream:  stream[100:],
			frames:  19,
			skipped: int64(lens[0] - 100),
		},
		{
			name:    "junk between frames: one loss",
			stream:  concat(stream[:at(5)], junk, stream[at(5):]),
			frames:  20,
			losses:  1,
			skipped: int64(len(junk)),
		},
		{
			// Frame 5 keeps its header's length, so the walker hops into
			// frame 6, loses sync there and finds frame 7: frame 5 counts,
			// frame 6 is lost in the skipped bytes.
			name:    "a frame cut short: one loss",
			stream:  concat(stream[:at(5)+200], stream[at(6):]),
			frames:  19,
			losses:  1,
			skipped: -1,
		},
		{
			name:    "two separate corruptions: two losses",
			stream:  concat(stream[:at(3)], junk, stream[at(3):at(10)], junk, stream[at(10):]),
			frames:  20,
			losses:  2,
			skipped: 2 * int64(len(junk)),
		},
	}
	for _, tt := range tests {
		for _, step := range []int{1, 13, 64 << 10} {
			w := walk(tt.stream, step)
			if w.frames != tt.frames || w.syncLosses != tt.losses {
				t.Errorf("%s, step %d: frames, losses = %d, %d; want %d, %d", tt.name, step, w.frames, w.syncLosses, tt.frames, tt.losses)
			}
			if tt.skipped >= 0 && w.skipped != tt.skipped {
				t.Errorf("%s, step %d: skipped = %d; want %d", tt.name, step, w.skipped, tt.skipped)
			}
		}
	}
}

// TestWalkerGarbage: bytes that never hold a frame are skipped in bounded
// memory, with no loss (sync was never found).
func TestWalkerGarbage(t *testing.T) {
	b := make([]byte, 200000)
	x := uint32(1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
		if i%97 == 0 {
			b[i] = 0xff
		}
	}
	w := walk(b, 1500)
	// Every 97th byte is 0xff, so candidate headers abound; none is
	// confirmed by a second header where its frame would end.
	if w.frames != 0 || w.syncLosses != 0 || w.skipped != int64(len(b)-len(w.buf)) || len(w.buf) > maxPending {
		t.Errorf("frames %d, losses %d, skipped %d, carried %d; want 0, 0, all but the carried, at most %d",
			w.frames, w.syncLosses, w.skipped, len(w.buf), maxPending)
	}
}

// TestWalkerHook: the hook sees every frame whole, with its position.
func TestWalkerHook(t *testing.T) {
	stream, lens := encodeFrames(t, 44100, 2, 128, 10, 0.5)
	for _, step := range []int{1, 100, 1 << 20} {
		var got []int
		var pos []float64
		w := frameWalker{hook: func(h render.FrameHeader, frame []byte, p float64) {
			if len(frame) != h.Length {
				t.Errorf("step %d: hook got %d bytes of a %d-byte frame", step, len(frame), h.Length)
			}
			got = append(got, len(frame))
			pos = append(pos, p)
		}}
		for b := stream; len(b) > 0; {
			n := min(step, len(b))
			w.Write(b[:n])
			b = b[n:]
		}
		if len(got) != len(lens) {
			t.Fatalf("step %d: hook called %d times; want %d", step, len(got), len(lens))
		}
		for i := range got {
			if got[i] != lens[i] || math.Abs(pos[i]-float64(i)*frameSeconds) > 1e-9 {
				t.Errorf("step %d: frame %d: len %d at %v s; want %d at %v s", step, i, got[i], pos[i], lens[i], float64(i)*frameSeconds)
			}
		}
	}
}

func concat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func BenchmarkWalker(b *testing.B) {
	stream, _ := encodeFrames(b, 44100, 2, 128, 40, 0.5)
	var w frameWalker
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		for p := stream; len(p) > 0; {
			n := min(8000, len(p))
			w.Write(p[:n])
			p = p[n:]
		}
	}
}
