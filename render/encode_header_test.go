package render

import (
	"errors"
	"io"
	"testing"
)

// The golden headers, annotated bit by bit (see ParseFrameHeader's layout).
var goldenHeaders = []struct {
	name  string
	b     [4]byte
	want  FrameHeader
	notes string
}{
	{
		name: "MPEG-1 44.1kHz stereo 128k padded",
		// FF FB: sync 11111111111, version 11 (MPEG-1), layer 01 (III), protection 1 (no CRC)
		// 92: bitrate 1001 (128k), sample rate 00 (44100), padding 1, private 0
		// 04: mode 00 (stereo), ext 00, copyright 0, original 1, emphasis 00
		b:    [4]byte{0xff, 0xfb, 0x92, 0x04},
		want: FrameHeader{Version: 1, Bitrate: 128, SampleRate: 44100, Channels: 2, Padding: true, Samples: 1152, Length: 418},
	},
	{
		name: "MPEG-1 48kHz mono 320k",
		// FF FB: MPEG-1 layer III, no CRC
		// E4: bitrate 1110 (320k), sample rate 01 (48000), padding 0, private 0
		// C4: mode 11 (mono), ext 00, copyright 0, original 1, emphasis 00
		b:    [4]byte{0xff, 0xfb, 0xe4, 0xc4},
		want: FrameHeader{Version: 1, Bitrate: 320, SampleRate: 48000, Channels: 1, Samples: 1152, Length: 960},
	},
	{
		name: "MPEG-1 32kHz joint stereo 32k with CRC",
		// FF FA: MPEG-1 layer III, protection 0 (CRC follows)
		// 18: bitrate 0001 (32k), sample rate 10 (32000), padding 0
		// 44: mode 01 (joint stereo), ext 00, original 1
		b:    [4]byte{0xff, 0xfa, 0x18, 0x44},
		want: FrameHeader{Version: 1, Bitrate: 32, SampleRate: 32000, Channels: 2, CRC: true, Samples: 1152, Length: 144},
	},
	{
		name: "MPEG-2 22.05kHz mono 64k padded",
		// FF F3: sync, version 10 (MPEG-2), layer 01 (III), no CRC
		// 82: bitrate 1000 (64k in the MPEG-2 table), sample rate 00 (22050), padding 1
		// C4: mono, original
		b:    [4]byte{0xff, 0xf3, 0x82, 0xc4},
		want: FrameHeader{Version: 2, Bitrate: 64, SampleRate: 22050, Channels: 1, Padding: true, Samples: 576, Length: 209},
	},
	{
		name: "MPEG-2 16kHz stereo 8k",
		// FF F3: MPEG-2 layer III; 18: bitrate 0001 (8k), sample rate 10 (16000); 04: stereo
		b:    [4]byte{0xff, 0xf3, 0x18, 0x04},
		want: FrameHeader{Version: 2, Bitrate: 8, SampleRate: 16000, Channels: 2, Samples: 576, Length: 36},
	},
	{
		name: "MPEG-2 24kHz dual channel 160k",
		// FF F3; E4: bitrate 1110 (160k), sample rate 01 (24000); 84: mode 10 (dual channel)
		b:    [4]byte{0xff, 0xf3, 0xe4, 0x84},
		want: FrameHeader{Version: 2, Bitrate: 160, SampleRate: 24000, Channels: 2, Samples: 576, Length: 480},
	},
}

func TestParseFrameHeaderGolden(t *testing.T) {
	for _, g := range goldenHeaders {
		got, err := ParseFrameHeader(append(g.b[:], 0xaa, 0xbb)) // trailing bytes are not read
		if err != nil || got != g.want {
			t.Errorf("%s: ParseFrameHeader(% x) = %+v, %v; want %+v", g.name, g.b, got, err, g.want)
		}
	}
}

func TestParseFrameHeaderRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"three bytes", []byte{0xff, 0xfb, 0x92}, io.ErrUnexpectedEOF},
		{"no sync", []byte{0x49, 0x44, 0x33, 0x04}, ErrFrameHeader}, // "ID3"
		{"sync cut short", []byte{0xff, 0xdb, 0x92, 0x04}, ErrFrameHeader},
		{"MPEG-2.5", []byte{0xff, 0xe3, 0x92, 0x04}, ErrFrameHeader},
		{"reserved version", []byte{0xff, 0xeb, 0x92, 0x04}, ErrFrameHeader},
		{"layer I", []byte{0xff, 0xff, 0x92, 0x04}, ErrFrameHeader},
		{"layer II", []byte{0xff, 0xfd, 0x92, 0x04}, ErrFrameHeader},
		{"reserved layer", []byte{0xff, 0xf9, 0x92, 0x04}, ErrFrameHeader},
		{"free format", []byte{0xff, 0xfb, 0x02, 0x04}, ErrFrameHeader},
		{"bad bitrate", []byte{0xff, 0xfb, 0xf2, 0x04}, ErrFrameHeader},
		{"reserved sample rate", []byte{0xff, 0xfb, 0x9e, 0x04}, ErrFrameHeader},
		{"reserved emphasis", []byte{0xff, 0xfb, 0x92, 0x06}, ErrFrameHeader},
	} {
		if h, err := ParseFrameHeader(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: ParseFrameHeader(% x) = %+v, %v; want %v", c.name, c.b, h, err, c.want)
		}
	}
}

// FuzzParseFrameHeader: no input panics, and an accepted header is
// self-consistent and survives being rebuilt from its fields.
func FuzzParseFrameHeader(f *testing.F) {
	for _, g := range goldenHeaders {
		f.Add(g.b[:])
	}
	f.Add([]byte{0xff, 0xfb})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseFrameHeader(b)
		if err != nil {
			if !errors.Is(err, ErrFrameHeader) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("ParseFrameHeader(% x): unexpected error %v", b, err)
			}
			return
		}
		if h.Version != 1 && h.Version != 2 || h.Channels != 1 && h.Channels != 2 {
			t.Fatalf("ParseFrameHeader(% x) = %+v: bad version or channels", b, h)
		}
		if h.Length < 24 || h.Length > MaxFrameLen {
			t.Fatalf("ParseFrameHeader(% x) = %+v: length out of range", b, h)
		}
		if h.Samples != 1152/h.Version {
			t.Fatalf("ParseFrameHeader(% x) = %+v: samples", b, h)
		}
		// Rebuild the header from the fields and compare the bits they cover.
		var vb byte = 3
		if h.Version == 2 {
			vb = 2
		}
		bi := indexOfInt(mpegBitrates[h.Version-1][:], h.Bitrate)
		si := indexOfInt(mpegSampleRates[h.Version-1][:], h.SampleRate)
		re := [3]byte{0xe0 | vb<<3 | 1<<1, byte(bi<<4 | si<<2), 0}
		if !h.CRC {
			re[0] |= 1 // protection bit: 1 means no CRC
		}
		if h.Padding {
			re[1] |= 2
		}
		if h.Channels == 1 {
			re[2] = 0xc0
		}
		got := [3]byte{b[1], b[2] & 0xfe, b[3] & 0xc0}
		if b[3]>>6 != 3 {
			got[2] = 0 // stereo, joint and dual all report 2 channels
		}
		if got != re {
			t.Fatalf("ParseFrameHeader(% x) = %+v; rebuilt % x, want % x", b, h, re, got)
		}
	})
}

func indexOfInt(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
