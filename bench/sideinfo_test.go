package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/synthcast/synthcast/render"
)

// frames splits a stream of whole frames.
func frames(t *testing.T, b []byte) (hs []render.FrameHeader, fs [][]byte) {
	t.Helper()
	for len(b) > 0 {
		h, err := render.ParseFrameHeader(b)
		if err != nil || h.Length > len(b) {
			t.Fatalf("bad frame at %d bytes from the end: %v", len(b), err)
		}
		hs, fs = append(hs, h), append(fs, b[:h.Length])
		b = b[h.Length:]
	}
	return hs, fs
}

// TestFrameSilentEncoder checks the silence test against our encoder in
// every MPEG version and channel count: digital silence is silent, a tone
// (loud, or at −60 dB) is not.
func TestFrameSilentEncoder(t *testing.T) {
	formats := [][3]int{{44100, 2, 128}, {48000, 1, 64}, {32000, 2, 320}, {22050, 1, 32}, {24000, 2, 64}, {16000, 2, 160}}
	for _, f := range formats {
		for _, amp := range []float64{0, 0.5, 0.001} {
			stream, _ := encodeFrames(t, f[0], f[1], f[2], 8, amp)
			hs, fs := frames(t, stream)
			for i := range fs {
				silent, ok := frameSilent(hs[i], fs[i])
				if !ok || silent != (amp == 0) {
					t.Errorf("%v amp %v frame %d: frameSilent = %v, %v; want %v, true", f, amp, i, silent, ok, amp == 0)
				}
			}
		}
	}
}

// TestFrameSilentShortFrame: a frame cut inside its side information or
// inside the main data it must read cannot be classified.
func TestFrameSilentShortFrame(t *testing.T) {
	stream, lens := encodeFrames(t, 44100, 2, 128, 1, 0)
	h, _ := render.ParseFrameHeader(stream)
	for _, n := range []int{4, 20, sideInfoEnd(h) - 1, sideInfoEnd(h) + 5} {
		if _, ok := frameSilent(h, stream[:n]); ok {
			t.Errorf("frameSilent(first %d of %d bytes) ok = true; want false", n, lens[0])
		}
	}
}

// bitWriter builds side information by hand.
type bitWriter struct {
	b []byte
	n int
}

func (w *bitWriter) put(v uint32, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[w.n/8] |= byte(v>>i&1) << (7 - w.n%8)
		w.n++
	}
}

// gran is one granule-channel block to write.
type gran struct {
	part23, bigValues, globalGain, sfc uint32
	count1B                            bool
}

// buildFrame returns a frame with header hdr (4 bytes), a zero CRC if the
// header says so, side information with mainDataBegin and gs (in stream
// order), and main data md, padded with zeros to the header's length.
func buildFrame(t *testing.T, hdr [4]byte, mainDataBegin uint32, gs []gran, md []byte) (render.FrameHeader, []byte) {
	t.Helper()
	h, err := render.ParseFrameHeader(hdr[:])
	if err != nil {
		t.Fatal(err)
	}
	w := &bitWriter{}
	for _, b := range hdr {
		w.put(uint32(b), 8)
	}
	if h.CRC {
		w.put(0, 16)
	}
	sfcBits := 4
	if h.Version == 1 {
		w.put(mainDataBegin, 9)
		w.put(0, map[int]int{1: 5, 2: 3}[h.Channels])
		w.put(0, 4*h.Channels) // scfsi
	} else {
		sfcBits = 9
		w.put(mainDataBegin, 8)
		w.put(0, h.Channels)
	}
	for _, g := range gs {
		w.put(g.part23, 12)
		w.put(g.bigValues, 9)
		w.put(g.globalGain, 8)
		w.put(g.sfc, sfcBits)
		w.put(0, 1)  // window_switching_flag
		w.put(0, 22) // table_select, region counts
		if h.Version == 1 {
			w.put(0, 1) // preflag
		}
		w.put(0, 1) // scalefac_scale
		c1 := uint32(0)
		if g.count1B {
			c1 = 1
		}
		w.put(c1, 1)
	}
	if len(w.b) != sideInfoEnd(h) || w.n%8 != 0 {
		t.Fatalf("built %d bits of header and side info; want %d bytes", w.n, sideInfoEnd(h))
	}
	b := append(w.b, md...)
	for len(b) < h.Length {
		b = append(b, 0)
	}
	return h, b[:h.Length]
}

// TestParseSideInfoGolden reads hand-built side information, with and
// without CRC, MPEG-1 and MPEG-2.
func TestParseSideInfoGolden(t *testing.T) {
	tests := []struct {
		name string
		hdr  [4]byte
		mdb  uint32
		gs   []gran
	}{
		// FF FA: MPEG-1 layer III with CRC; 90: 128k 44.1k; 04: stereo.
		{"MPEG-1 stereo CRC", [4]byte{0xff, 0xfa, 0x90, 0x04}, 300, []gran{
			{1000, 200, 150, 9, true}, {4095, 511, 255, 15, false}, {1, 2, 3, 4, true}, {0, 0, 210, 0, false}}},
		// FF FB: no CRC; C0: mono.
		{"MPEG-1 mono", [4]byte{0xff, 0xfb, 0x90, 0xc0}, 511, []gran{
			{123, 45, 67, 8, false}, {3056, 0, 210, 0, true}}},
		// FF F3: MPEG-2 layer III, no CRC; 40: 32k 22.05k; C0: mono.
		{"MPEG-2 mono", [4]byte{0xff, 0xf3, 0x40, 0xc0}, 255, []gran{{728, 0, 210, 511, true}}},
		// FF F2: with CRC; 84: 64k 24k; 44: joint stereo.
		{"MPEG-2 stereo CRC", [4]byte{0xff, 0xf2, 0x84, 0x44}, 7, []gran{{700, 20, 137, 300, false}, {600, 21, 136, 0, true}}},
	}
	for _, tt := range tests {
		h, frame := buildFrame(t, tt.hdr, tt.mdb, tt.gs, nil)
		si, ok := parseSideInfo(h, frame)
		if !ok || si.mainDataBegin != int(tt.mdb) || si.n != len(tt.gs) {
			t.Errorf("%s: parseSideInfo: ok %v, main_data_begin %d, %d blocks; want true, %d, %d", tt.name, ok, si.mainDataBegin, si.n, tt.mdb, len(tt.gs))
			continue
		}
		for i, g := range tt.gs {
			want := granule{part23: int(g.part23), bigValues: int(g.bigValues), sfCompress: int(g.sfc), count1B: g.count1B}
			if si.g[i] != want {
				t.Errorf("%s: block %d = %+v; want %+v", tt.name, i, si.g[i], want)
			}
		}
	}
}

// TestFrameSilentRules covers the cases encoders other than ours produce.
func TestFrameSilentRules(t *testing.T) {
	stereo := [4]byte{0xff, 0xfb, 0x90, 0x04} // MPEG-1 128k 44.1k stereo, no CRC
	ones := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = 0xff
		}
		return b
	}
	zeroAt := func(b []byte, bit int) []byte {
		b = append([]byte(nil), b...)
		b[bit/8] &^= 0x80 >> (bit % 8)
		return b
	}
	quiet := gran{globalGain: 210}
	tests := []struct {
		name   string
		mdb    uint32
		gs     []gran
		md     []byte
		silent bool
	}{
		{"LAME silence: no main data, data in the reservoir", 129, []gran{quiet, quiet, quiet, quiet}, nil, true},
		{"big values", 0, []gran{quiet, {bigValues: 1}, quiet, quiet}, nil, false},
		{"shine silence: stuffing of 1 bits", 0, []gran{{part23: 3056}, quiet, quiet, quiet}, ones(382), true},
		{"count1 table A with a non-zero quadruple", 0, []gran{{part23: 3056}, quiet, quiet, quiet}, zeroAt(ones(382), 100), false},
		{"count1 table A, a 0 past the 576 lines", 0, []gran{{part23: 3056}, quiet, quiet, quiet}, zeroAt(ones(382), 144), true},
		{"count1 table B, a 0 in the 576 lines", 0, []gran{{part23: 3056, count1B: true}, quiet, quiet, quiet}, zeroAt(ones(382), 575), false},
		{"count1 table B, all ones", 0, []gran{{part23: 3056, count1B: true}, quiet, quiet, quiet}, ones(382), true},
		{"second granule's data follows the first's", 0, []gran{{part23: 200}, quiet, {part23: 200}, quiet}, zeroAt(ones(382), 250), false},
		{"main data in the reservoir cannot be read", 1, []gran{{part23: 10}, quiet, quiet, quiet}, ones(382), false},
		{"scale factors present", 0, []gran{{part23: 3056, sfc: 1}, quiet, quiet, quiet}, ones(382), false},
	}
	for _, tt := range tests {
		h, frame := buildFrame(t, stereo, tt.mdb, tt.gs, tt.md)
		silent, ok := frameSilent(h, frame)
		if !ok || silent != tt.silent {
			t.Errorf("%s: frameSilent = %v, %v; want %v, true", tt.name, silent, ok, tt.silent)
		}
	}
}

// TestFrameSilentLAME checks frames from LAME (ffmpeg's libmp3lame), which
// uses a bit reservoir and codes silence with no main data at all. It is
// skipped without an ffmpeg built with libmp3lame.
func TestFrameSilentLAME(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("no ffmpeg")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		src    string
		silent bool
	}{
		{"anullsrc=r=44100:cl=stereo", true},
		{"sine=f=440:r=44100", false},
	} {
		out := filepath.Join(dir, "x.mp3")
		cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", tc.src,
			"-t", "1", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", "-id3v2_version", "0", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("ffmpeg cannot encode with libmp3lame: %v: %s", err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		hs, fs := frames(t, b)
		var silent, loud int
		for i := range fs {
			s, ok := frameSilent(hs[i], fs[i])
			switch {
			case !ok:
				t.Fatalf("%s: frame %d unclassified", tc.src, i)
			case s:
				silent++
			default:
				loud++
			}
		}
		// LAME's first frame (encoder delay) and last (padding) may be
		// silent even for a tone.
		if tc.silent && loud > 0 || !tc.silent && silent > 2 {
			t.Errorf("%s: %d silent and %d loud frames", tc.src, silent, loud)
		}
	}
}
